"""The readers of fcot_ros.datasets that training uses (GOT-10k, LaSOT and TrackingNet train splits, COCO,
our folders, rosbag2 with random access), the Sequence type, on tiny datasets written here in each
official layout and on the real sequence folders of ../shared/data."""
import json
import pickle

import cv2
import numpy as np
import pytest

from fcot_ros.datasets import DatasetError, ImageFiles, Sequence, load

SIZE = (12, 16)   # height, width of the test frames


def colour(i: int) -> np.ndarray:
    """A flat BGR frame whose blue channel encodes its index i."""
    image = np.zeros(SIZE + (3,), np.uint8)
    image[..., 0] = 20 + 15 * i
    image[..., 1] = 90
    image[..., 2] = 200
    return image


def write_frames(folder, count, name="{:08d}.jpg", first=1):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        assert cv2.imwrite(str(folder / name.format(first + i)), colour(i))


def write_rows(path, rows, delimiter=","):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(delimiter.join(f"{v:g}" for v in row) + "\n" for row in np.asarray(rows, float)))


def boxes_for(n, start=1.0):
    """n distinct boxes (x = start + i) so a test can tell which rows were kept."""
    return np.array([[start + i, 2.0, 6.0, 5.0] for i in range(n)])


def assert_frame_is(image, i):
    assert image.dtype == np.uint8 and image.shape == SIZE + (3,)
    assert np.abs(image.astype(int) - colour(i).astype(int)).max() <= 4   # JPEG of a flat colour


# --------------------------------------------------------------------------- GOT-10k

def write_got10k_sequence(folder, n, absence=None, cover=None, cut=None, meta=True, boxes=None):
    write_frames(folder, n)
    write_rows(folder / "groundtruth.txt", boxes_for(n) if boxes is None else boxes)
    for label, values in (("absence", absence), ("cover", cover), ("cut_by_image", cut)):
        if values is not None:
            (folder / f"{label}.label").write_text("".join(f"{v}\n" for v in values))
    if meta:
        (folder / "meta_info.ini").write_text("[METAINFO]\nurl: https://example.org/v\n"
                                              "object_class: ant\nmotion_class: walking\nresolution: (16, 12)\n")


@pytest.fixture
def got10k_root(tmp_path):
    train = tmp_path / "got10k" / "train"
    write_got10k_sequence(train / "GOT-10k_Train_000001", 4, absence=[0, 1, 0, 0], cover=[8, 0, 0, 4],
                          cut=[0, 0, 1, 0])
    write_got10k_sequence(train / "GOT-10k_Train_000002", 3, absence=[0, 0, 0], cover=[8, 8, 8], meta=False)
    write_got10k_sequence(train / "GOT-10k_Train_000003", 2)
    (train / "list.txt").write_text("GOT-10k_Train_000002\nGOT-10k_Train_000001\nGOT-10k_Train_000003\n")
    return tmp_path / "got10k"


def test_got10k_train_boxes_flags_and_frames(got10k_root):
    seqs = load("got10k", got10k_root)
    assert [s.name for s in seqs] == ["GOT-10k_Train_000002", "GOT-10k_Train_000001", "GOT-10k_Train_000003"]
    seq = seqs[1]
    assert seq.dataset == "got10k" and seq.video == seq.name and seq.num_frames == 4 and len(seq) == 4
    np.testing.assert_array_equal(seq.boxes, boxes_for(4))
    assert seq.boxes.dtype == np.float64
    # frame 1 absent, frame 2 fully covered (cover 0) although not flagged absent
    np.testing.assert_array_equal(seq.visible, [True, False, False, True])
    np.testing.assert_allclose(seq.attributes["visible_ratio"], [1.0, 0.0, 0.0, 0.5])
    np.testing.assert_array_equal(seq.attributes["cut_by_image"], [False, False, True, False])
    assert seq.attributes["object_class"] == "ant" and seq.attributes["motion_class"] == "walking"
    assert seq.confidence.dtype == np.float32 and np.all(seq.confidence == 1.0)
    assert not seq.is_static_image
    for i in (3, 0, 2):
        assert_frame_is(seq.frame(i), i)
    assert seq.frame_path(0).endswith("GOT-10k_Train_000001/00000001.jpg")
    assert seqs[2].visible.all() and "visible_ratio" not in seqs[2].attributes   # no label files


def test_got10k_sequence_list_by_name_and_by_index(got10k_root, tmp_path):
    subset = tmp_path / "subset.txt"
    subset.write_text("GOT-10k_Train_000003\n\nGOT-10k_Train_000001\n")
    names = [s.name for s in load("got10k", got10k_root, sequence_list=subset)]
    assert names == ["GOT-10k_Train_000003", "GOT-10k_Train_000001"]
    # pytracking's split files hold 0-based indices into list.txt
    (tmp_path / "ids.txt").write_text("2\n0\n")
    names = [s.name for s in load("got10k", got10k_root, sequence_list=tmp_path / "ids.txt")]
    assert names == ["GOT-10k_Train_000003", "GOT-10k_Train_000002"]
    assert len(load("got10k", got10k_root, sequence_list=["GOT-10k_Train_000001"])) == 1
    with pytest.raises(DatasetError, match="GOT-10k_Train_000009"):
        load("got10k", got10k_root, sequence_list=["GOT-10k_Train_000009"])
    with pytest.raises(DatasetError, match="out of range"):
        load("got10k", got10k_root, sequence_list=["7"])


def test_got10k_val(tmp_path):
    val = tmp_path / "val"
    write_got10k_sequence(val / "GOT-10k_Val_000001", 3, absence=[0, 0, 1], cover=[8, 2, 0])
    (val / "list.txt").write_text("GOT-10k_Val_000001\n")
    (seq,) = load("got10k", tmp_path, split="val")
    assert seq.name == "GOT-10k_Val_000001" and seq.attributes["split"] == "val"
    np.testing.assert_array_equal(seq.visible, [True, True, False])
    with pytest.raises(DatasetError, match="train/list.txt"):
        load("got10k", tmp_path)              # default split is train


def test_got10k_broken_roots(tmp_path, got10k_root):
    with pytest.raises(DatasetError) as err:
        load("got10k", tmp_path)
    assert str(err.value) == (f"GOT-10k: {tmp_path / 'train' / 'list.txt'} not found; "
                              "expected root/train/list.txt and root/train/GOT-10k_Train_*/")
    train = got10k_root / "train"
    (train / "list.txt").write_text("GOT-10k_Train_000001\nGOT-10k_Train_000042\n")
    with pytest.raises(DatasetError, match="GOT-10k_Train_000042"):
        load("got10k", got10k_root)
    (train / "list.txt").write_text("GOT-10k_Train_000001\n")
    (train / "GOT-10k_Train_000001" / "00000004.jpg").unlink()              # 3 images, 4 boxes
    with pytest.raises(DatasetError, match=r"groundtruth.txt has 4 boxes but .* has 3 images"):
        load("got10k", got10k_root)
    write_got10k_sequence(train / "GOT-10k_Train_000001", 4, boxes=np.ones((4, 5)))
    with pytest.raises(DatasetError, match=r"GOT-10k_Train_000001/groundtruth.txt:1: expected 4 values, got 5"):
        load("got10k", got10k_root)
    write_got10k_sequence(train / "GOT-10k_Train_000001", 4, absence=[0, 0, 0])
    with pytest.raises(DatasetError, match=r"absence.label has 3 values for 4 frames"):
        load("got10k", got10k_root)
    write_got10k_sequence(train / "GOT-10k_Train_000001", 4, absence=[0] * 4, cover=[8, 9, 8, 8])
    with pytest.raises(DatasetError, match="cover.label must hold integers 0..8"):
        load("got10k", got10k_root)


# --------------------------------------------------------------------------- LaSOT

def write_lasot_sequence(root, name, n, occlusion, out_of_view):
    folder = root / name.rsplit("-", 1)[0] / name
    write_frames(folder / "img", n)
    write_rows(folder / "groundtruth.txt", boxes_for(n, start=10.0))
    (folder / "full_occlusion.txt").write_text(",".join(map(str, occlusion)) + "\n")
    (folder / "out_of_view.txt").write_text(",".join(map(str, out_of_view)) + "\n")
    return folder


@pytest.fixture
def lasot_root(tmp_path):
    root = tmp_path / "lasot"
    write_lasot_sequence(root, "airplane-1", 4, [0, 1, 0, 0], [0, 0, 0, 1])
    write_lasot_sequence(root, "airplane-2", 2, [0, 0], [0, 0])
    write_lasot_sequence(root, "bird-3", 3, [0, 0, 0], [1, 0, 0])          # a test sequence
    (root / "airplane" / "airplane-1" / "nlp.txt").write_text("white airplane landing\n")
    (root / "training_set.txt").write_text("airplane-2\nairplane-1\n")
    return root


def test_lasot_train_split_flags_and_frames(lasot_root, tmp_path):
    seqs = load("lasot_train", lasot_root)
    assert [s.name for s in seqs] == ["airplane-2", "airplane-1"]
    seq = seqs[1]
    assert seq.dataset == "lasot" and seq.num_frames == 4 and seq.attributes["class"] == "airplane"
    assert seq.attributes["language"] == "white airplane landing"
    np.testing.assert_array_equal(seq.boxes, boxes_for(4, start=10.0))
    np.testing.assert_array_equal(seq.visible, [True, False, True, False])   # occluded 1, out of view 3
    assert_frame_is(seq.frame(2), 2)
    np.testing.assert_array_equal(seq.visible_indices(), [0, 2])
    split = tmp_path / "mine.txt"
    split.write_text("bird-3\n")
    (bird,) = load("lasot_train", lasot_root, split_file=str(split))
    assert bird.name == "bird-3" and bird.attributes["class"] == "bird"
    np.testing.assert_array_equal(bird.visible, [False, True, True])


def test_lasot_refuses_without_split_file_and_missing_sequences(lasot_root, tmp_path):
    (lasot_root / "training_set.txt").unlink()
    with pytest.raises(DatasetError, match=r"no split file: .*training_set.txt not found and no split_file"):
        load("lasot_train", lasot_root)
    with pytest.raises(DatasetError, match=r"split file .*nothere.txt \(option split_file\) not found"):
        load("lasot_train", lasot_root, split_file=str(tmp_path / "nothere.txt"))
    (lasot_root / "training_set.txt").write_text("airplane-1\ncat-7\n")
    with pytest.raises(DatasetError, match=r"cat/cat-7"):
        load("lasot_train", lasot_root)
    (lasot_root / "training_set.txt").write_text("airplane-1\n")
    (lasot_root / "airplane" / "airplane-1" / "out_of_view.txt").write_text("0,0,0\n")
    with pytest.raises(DatasetError, match=r"out_of_view.txt has 3 values for 4 frames"):
        load("lasot_train", lasot_root)


# --------------------------------------------------------------------------- TrackingNet

def write_trackingnet_sequence(root, chunk, name, n, start=0.0):
    base = root / f"TRAIN_{chunk}"
    write_frames(base / "frames" / name, n, name="{:d}.jpg", first=0)
    write_rows(base / "anno" / f"{name}.txt", boxes_for(n, start=start))


@pytest.fixture
def trackingnet_root(tmp_path):
    root = tmp_path / "trackingnet"
    write_trackingnet_sequence(root, 0, "a1qoB1eERn0_0", 12, start=0.0)     # 0.jpg .. 11.jpg
    write_trackingnet_sequence(root, 0, "a1qoB1eERn0_1", 2, start=100.0)
    write_trackingnet_sequence(root, 2, "Zx-9_kLmn0p_3", 3, start=200.0)
    return root


def test_trackingnet_chunks(trackingnet_root):
    seqs = load("trackingnet_train", trackingnet_root)
    assert [(s.name, s.attributes["chunk"]) for s in seqs] == [
        ("a1qoB1eERn0_0", 0), ("a1qoB1eERn0_1", 0), ("Zx-9_kLmn0p_3", 2)]
    assert [s.video for s in seqs] == ["a1qoB1eERn0", "a1qoB1eERn0", "Zx-9_kLmn0p"]
    first = seqs[0]
    assert first.num_frames == 12 and first.dataset == "trackingnet"
    np.testing.assert_array_equal(first.boxes, boxes_for(12, start=0.0))
    assert first.frame_path(10).endswith("frames/a1qoB1eERn0_0/10.jpg")      # numeric, not text, order
    assert_frame_is(first.frame(10), 10)
    assert [s.name for s in load("trackingnet_train", trackingnet_root, chunks=[2])] == ["Zx-9_kLmn0p_3"]
    with pytest.raises(DatasetError, match=r"chunk\(s\) TRAIN_1, TRAIN_3 not found .*have: TRAIN_0, TRAIN_2"):
        load("trackingnet_train", trackingnet_root, chunks=[0, 1, 3])
    with pytest.raises(DatasetError, match="integers 0..11"):
        load("trackingnet_train", trackingnet_root, chunks=[12])


def test_trackingnet_broken_roots(trackingnet_root, tmp_path):
    with pytest.raises(DatasetError, match="no TRAIN_<k> folder"):
        load("trackingnet_train", tmp_path)
    for f in (trackingnet_root / "TRAIN_2" / "anno").iterdir():
        f.unlink()
    (trackingnet_root / "TRAIN_2" / "anno").rmdir()
    with pytest.raises(DatasetError, match=r"TRAIN_2/anno not found"):
        load("trackingnet_train", trackingnet_root)
    write_rows(trackingnet_root / "TRAIN_0" / "anno" / "a1qoB1eERn0_1.txt", boxes_for(5))
    with pytest.raises(DatasetError, match=r"a1qoB1eERn0_1.txt has 5 boxes but .* has 2 images"):
        load("trackingnet_train", trackingnet_root, chunks=[0])


# --------------------------------------------------------------------------- COCO

def write_coco(root, split="train2017", annotations=None, images=None, write_images=True):
    images = images or [{"id": 9, "file_name": "000000000009.jpg", "width": SIZE[1], "height": SIZE[0]},
                        {"id": 25, "file_name": "000000000025.jpg", "width": SIZE[1], "height": SIZE[0]}]
    annotations = annotations if annotations is not None else [
        {"id": 1, "image_id": 9, "category_id": 3, "bbox": [1.5, 2.25, 6.0, 5.0], "area": 20.0, "iscrowd": 0},
        {"id": 2, "image_id": 9, "category_id": 3, "bbox": [0, 0, 10, 8], "area": 60.0, "iscrowd": 1},
        {"id": 3, "image_id": 25, "category_id": 1, "bbox": [4, 4, 0.5, 6], "area": 2.0, "iscrowd": 0},
        {"id": 4, "image_id": 25, "category_id": 1, "bbox": [3, 1, 2, 1.5], "area": 3.0, "iscrowd": 0},
        {"id": 5, "image_id": 25, "category_id": 3, "bbox": [0, 2, 9, 7], "area": 50.0, "iscrowd": 0},
    ]
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    (root / split).mkdir(parents=True, exist_ok=True)
    data = {"images": images, "annotations": annotations,
            "categories": [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}]}
    (root / "annotations" / f"instances_{split}.json").write_text(json.dumps(data))
    if write_images:
        for k, image in enumerate(images):
            cv2.imwrite(str(root / split / image["file_name"]), colour(k))


def test_coco_instances_as_static_sequences(tmp_path):
    root = tmp_path / "coco"
    write_coco(root)
    seqs = load("coco", root)
    # crowd (2) and the 0.5 px wide box (3) are skipped
    assert [s.attributes["annotation_id"] for s in seqs] == [1, 4, 5]
    first = seqs[0]
    assert first.is_static_image and first.num_frames == 1 and first.dataset == "coco"
    np.testing.assert_array_equal(first.boxes, [[1.5, 2.25, 6.0, 5.0]])
    assert first.visible.tolist() == [True]
    assert first.attributes["category"] == "car" and first.attributes["image_id"] == 9
    assert first.video == "000000000009" and seqs[1].video == seqs[2].video == "000000000025"
    assert_frame_is(first.frame(0), 0)
    assert_frame_is(seqs[2].frame(0), 1)
    assert [s.attributes["annotation_id"] for s in load("coco", root, min_area=4.0)] == [1, 5]


def test_coco_is_lazy_and_refuses_broken_roots(tmp_path):
    root = tmp_path / "coco"
    write_coco(root, split="val2017", write_images=False)     # no image file at all: loading still works
    seqs = load("coco", root, split="val2017")
    assert len(seqs) == 3
    with pytest.raises(DatasetError, match=r"cannot read image .*val2017/000000000009.jpg \(no such file\)"):
        seqs[0].frame(0)
    with pytest.raises(DatasetError, match=r"annotations/instances_train2017.json not found; expected"):
        load("coco", root)
    (root / "annotations" / "instances_val2017.json").write_text("{not json")
    with pytest.raises(DatasetError, match="instances_val2017.json is not valid JSON"):
        load("coco", root, split="val2017")
    with pytest.raises(DatasetError, match="split must be one of train2017, val2017"):
        load("coco", root, split="test2017")


# --------------------------------------------------------------------------- our sequence folders

def write_folder_sequence(root, name, boxes, confidence=None, meta=None, grey=False):
    folder = root / name
    (folder / "img").mkdir(parents=True, exist_ok=True)
    for i in range(len(boxes)):
        image = colour(i)
        cv2.imwrite(str(folder / "img" / f"{i + 1:06d}.jpg"), image[..., 0] if grey else image)
    write_rows(folder / "groundtruth.txt", boxes)
    if confidence is not None:
        (folder / "confidence.txt").write_text("".join(f"{c}\n" for c in confidence))
    if meta is not None:
        (folder / "meta.json").write_text(json.dumps(meta))


def test_folder_with_index_confidence_and_blocks(tmp_path):
    root = tmp_path / "pool"
    boxes = boxes_for(3)
    boxes[1] = np.nan
    write_folder_sequence(root, "otb_Walk_a", boxes, confidence=[1.0, 0.0, 0.25], meta={"licence": "MIT"})
    write_folder_sequence(root, "otb_Walk_b", boxes_for(2))
    write_folder_sequence(root, "uav_group2_2", boxes_for(2), grey=True)
    write_folder_sequence(root, "not_listed", boxes_for(2))
    (root / "index.tsv").write_text("name\tdataset\tlicence\n"
                                    "otb_Walk_b\tOTB-100\tMIT\notb_Walk_a\tOTB-100\tMIT\nuav_group2_2\tUAV123\tnone\n")
    seqs = load("folder", root)
    assert [s.name for s in seqs] == ["otb_Walk_b", "otb_Walk_a", "uav_group2_2"]
    assert [s.video for s in seqs] == ["otb_Walk", "otb_Walk", "uav_group2_2"]
    walk = seqs[1]
    assert walk.dataset == "folder" and walk.attributes["dataset"] == "OTB-100"
    assert walk.attributes["licence"] == "MIT" and walk.attributes["meta"] == {"licence": "MIT"}
    assert np.isnan(walk.boxes[1]).all() and walk.visible.tolist() == [True, False, True]
    np.testing.assert_allclose(walk.confidence, [1.0, 0.0, 0.25])
    assert walk.confidence.dtype == np.float32
    np.testing.assert_array_equal(seqs[0].confidence, [1.0, 1.0])
    grey = seqs[2].frame(1)                                    # a grey JPEG comes back as 3 channels
    assert grey.shape == SIZE + (3,) and np.abs(grey[..., 2].astype(int) - colour(1)[..., 0]).max() <= 4
    # without index.tsv every sequence subfolder is read, sorted
    (root / "index.tsv").unlink()
    assert [s.name for s in load("folder", root)] == ["not_listed", "otb_Walk_a", "otb_Walk_b",
                                                             "uav_group2_2"]
    assert [s.name for s in load("folder", root / "otb_Walk_b")] == ["otb_Walk_b"]


def test_folder_refusals(tmp_path):
    root = tmp_path / "pool"
    write_folder_sequence(root, "a", boxes_for(3), confidence=[1, 1])
    with pytest.raises(DatasetError, match=r"a/confidence.txt has 2 values for 3 frames"):
        load("folder", root)
    write_folder_sequence(root, "a", boxes_for(3), confidence=[1, 1.5, 0])
    with pytest.raises(DatasetError, match=r"a/confidence.txt values must lie in \[0, 1\]"):
        load("folder", root)
    (root / "a" / "confidence.txt").unlink()
    (root / "index.tsv").write_text("name\tdataset\na\tx\nb\ty\n")
    with pytest.raises(DatasetError, match=r"pool/b \(listed in .*index.tsv\) not found"):
        load("folder", root)
    (root / "index.tsv").write_text("sequence\tdataset\na\tx\n")
    with pytest.raises(DatasetError, match="has no 'name' column"):
        load("folder", root)
    (root / "index.tsv").unlink()
    (root / "a" / "groundtruth.txt").write_text("1,2,3,4\n1,2,3,4\n")
    with pytest.raises(DatasetError, match=r"a/groundtruth.txt has 2 boxes but .*a/img has 3 images"):
        load("folder", root)
    with pytest.raises(DatasetError, match="no index.tsv and no sequence folder"):
        load("folder", tmp_path / "pool" / "a" / "img")


# --------------------------------------------------------------------------- rosbag2

TOPIC = "/camera/image_raw"


def write_bag(path, count):
    """A rosbag2 (sqlite3) with ``count`` rgb8 Image messages of colour(i) on TOPIC."""
    from rosbags.rosbag2 import Writer
    from rosbags.typesys import Stores, get_typestore
    store = get_typestore(Stores.LATEST)
    header_type, time_type = store.types["std_msgs/msg/Header"], store.types["builtin_interfaces/msg/Time"]
    msgtype = "sensor_msgs/msg/Image"
    with Writer(path, version=9) as writer:
        connection = writer.add_connection(TOPIC, msgtype, typestore=store)
        for i in range(count):
            rgb = np.ascontiguousarray(colour(i)[..., ::-1])
            msg = store.types[msgtype](header=header_type(stamp=time_type(sec=50 + i, nanosec=0), frame_id="cam"),
                                       height=SIZE[0], width=SIZE[1], encoding="rgb8", is_bigendian=0,
                                       step=SIZE[1] * 3, data=rgb.reshape(-1))
            writer.write(connection, (50 + i) * 1_000_000_000, store.serialize_cdr(msg, msgtype))


def test_rosbag_random_access_in_memory_and_cached(tmp_path):
    bag = tmp_path / "bags" / "walk"
    write_bag(bag, 4)
    boxes = boxes_for(4)
    boxes[2] = np.nan
    write_rows(bag / "groundtruth.txt", boxes)
    (seq,) = load("rosbag", tmp_path / "bags")
    assert seq.name == "walk" and seq.video == "walk" and seq.dataset == "rosbag" and seq.num_frames == 4
    assert seq.attributes["topic"] == TOPIC and seq.visible.tolist() == [True, True, False, True]
    assert seq.frame_path(0) is None
    np.testing.assert_array_equal(seq.frame(3), colour(3))      # raw messages: exact pixels
    np.testing.assert_array_equal(seq.frame(1), colour(1))
    assert seq.frames._images is not None                        # decoded once, kept in this process
    clone = pickle.loads(pickle.dumps(seq))
    assert clone.frames._images is None and len(pickle.dumps(seq)) < 4000   # frames are not pickled
    np.testing.assert_array_equal(clone.frame(2), colour(2))

    cache = tmp_path / "cache"
    (cached,) = load("rosbag", bag, topic=TOPIC, cache_dir=cache)
    pngs = sorted(p.name for p in next(cache.iterdir()).glob("*.png"))
    assert pngs == ["000000.png", "000001.png", "000002.png", "000003.png"]
    assert cached.frame_path(2).endswith("000002.png")
    np.testing.assert_array_equal(cached.frame(2), colour(2))
    stamp = (cache / next(cache.iterdir()).name / "000000.png").stat().st_mtime_ns
    load("rosbag", bag, cache_dir=cache)                 # complete cache: not rewritten
    assert (cache / next(cache.iterdir()).name / "000000.png").stat().st_mtime_ns == stamp
    write_rows(bag / "groundtruth.txt", boxes_for(3))
    with pytest.raises(DatasetError, match="3 ground-truth rows for 4 images"):
        load("rosbag", bag)


# --------------------------------------------------------------------------- the sequence type

def test_sequence_checks_and_pickles(tmp_path):
    write_frames(tmp_path / "img", 3)
    frames = ImageFiles(tmp_path / "img", ["00000001.jpg", "00000002.jpg", "00000003.jpg"])
    assert frames.pattern == "{:08d}.jpg" and frames.names is None
    boxes = np.array([[1, 1, 4, 4], [1, 1, 0, 4], [np.inf, 1, 4, 4]], float)
    seq = Sequence(name="s", dataset="test", boxes=boxes, frames=frames, absent=[False, False, False])
    assert seq.visible.tolist() == [True, False, False]          # zero width, infinite x
    clone = pickle.loads(pickle.dumps(seq))
    assert clone.name == "s" and clone.visible.tolist() == [True, False, False]
    assert_frame_is(clone.frame(2), 2)
    with pytest.raises(IndexError, match="frame 3 out of range 0..2"):
        seq.frame(3)
    with pytest.raises(DatasetError, match="3 frames but 2 boxes"):
        Sequence(name="s", dataset="test", boxes=boxes[:2], frames=frames)
    with pytest.raises(DatasetError, match=r"confidences must lie in \[0, 1\]"):
        Sequence(name="s", dataset="test", boxes=boxes, frames=frames, confidence=[1, 2, 1])
    odd = ImageFiles(tmp_path / "img", ["b.jpg", "a.jpg"])
    assert odd.names == ("b.jpg", "a.jpg") and odd.path(1).endswith("img/a.jpg")
    (tmp_path / "img" / "00000002.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DatasetError, match=r"cannot read image .*00000002.jpg \(not a readable image\)"):
        seq.frame(1)


# --------------------------------------------------------------------------- the real folders

def _index_frames(root):
    lines = (root / "index.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    return {row.split("\t")[0]: int(row.split("\t")[header.index("frames")]) for row in lines[1:] if row.strip()}


def test_real_sequence_folders(shared_data):
    for sub in ("sequences", "train"):
        root = shared_data / sub
        seqs = load("folder", root)
        expected = _index_frames(root)
        assert [s.name for s in seqs] == list(expected)
        for seq in seqs:
            assert seq.num_frames == expected[seq.name] == seq.boxes.shape[0]
            assert seq.attributes["dataset"] and np.all(seq.confidence == 1.0)
        by_name = {s.name: s for s in seqs}
        first = seqs[0]
        width, height = map(int, first.attributes["resolution"].split("x"))
        assert first.frame(first.num_frames - 1).shape == (height, width, 3)
        if sub == "sequences":
            assert len(seqs) == 15 and int((~by_name["uav_group2_2"].visible).sum()) == 5
            assert all(s.video == s.name for s in seqs)
        else:
            assert len(seqs) == 48 and sum(s.num_frames for s in seqs) == 3846
            pairs = ("lasot_airplane-1", "otb_Girl2", "uav_bike1", "votlt_yamaha")
            for video in pairs:
                assert by_name[f"{video}_a"].video == by_name[f"{video}_b"].video == video
            shared = sorted(v for v in {s.video for s in seqs} if [s.video for s in seqs].count(v) > 1)
            assert shared == list(pairs) and len({s.video for s in seqs}) == 48 - len(pairs)
            assert by_name["uav_boat5"].video == "uav_boat5"
            assert by_name["otb_Girl2_a"].attributes["meta"]["licence"] == "none stated"
