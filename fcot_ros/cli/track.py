"""``fcot track``: run a tracker over an image sequence or a video file from an initial box; writes
the boxes (x, y, w, h pixels per line, first line = the initial box) and, when asked, an annotated
video (mp4v), with a progress bar."""
import sys
from pathlib import Path

from fcot_ros.assembly.registry import MODEL_NAMES
from fcot_ros.errors import FCOTError

STATE_COLOURS = {"tracking": (0, 200, 0), "uncertain": (0, 200, 255), "lost": (0, 0, 255), "init": (255, 128, 0)}


def register(subparsers) -> None:
    """Add the ``track`` sub-command and its options to ``subparsers``."""
    p = subparsers.add_parser("track", help="track one target through an image sequence or a video",
                              description="Writes one x,y,w,h line per frame (pixels).")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--sequence", help="folder with img/ (+ groundtruth.txt), or a folder of images")
    source.add_argument("--video", help="video file readable by OpenCV")
    p.add_argument("--init", default=None, help="initial box x,y,w,h in pixels (default for --sequence: "
                   "the first line of its groundtruth.txt)")
    p.add_argument("--model", default="fcot_lite", choices=MODEL_NAMES)
    p.add_argument("--backend", default="auto", help="FCOT runtime")
    p.add_argument("--preset", default="default", help="FCOT parameter preset")
    p.add_argument("--weights", default=None, help="FCOT checkpoint")
    p.add_argument("--boxes", default="-", help="output box file ('-' = standard output)")
    p.add_argument("--out", default=None, help="annotated video to write (.mp4, mp4v codec)")
    p.add_argument("--fps", type=float, default=None, help="frame rate of the output video "
                   "(default: the input video's, 30 for image sequences)")
    p.add_argument("--max-frames", type=int, default=None, help="stop after this many frames")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def parse_box(text: str):
    """"x,y,w,h" -> tuple of 4 floats (pixels)."""
    try:
        values = tuple(float(v) for v in text.replace(" ", "").split(","))
    except ValueError:
        values = ()
    if len(values) != 4:
        raise ValueError(f"--init must be x,y,w,h in pixels, got {text!r}")
    return values


def _sequence_source(folder: Path):
    """(list of image paths, default init box or None) of a sequence folder or image folder."""
    from fcot_ros.datasets.parsing import list_images, read_boxes
    from fcot_ros.errors import DatasetError
    image_dir = folder / "img" if (folder / "img").is_dir() else folder
    if not folder.is_dir():
        raise DatasetError(f"--sequence {folder} is not a directory")
    images = list_images(image_dir)
    if not images:
        raise DatasetError(f"no images (jpg/png/bmp) in {image_dir}")
    init = None
    if (folder / "groundtruth.txt").is_file():
        init = tuple(float(v) for v in read_boxes(folder / "groundtruth.txt")[0])
    return images, init


def _frames_from_images(images):
    import cv2
    for path in images:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise IOError(f"cannot read image {path}")
        yield image


def _frames_from_video(capture):
    while True:
        ok, frame = capture.read()
        if not ok:
            return
        yield frame


def draw(image, box, state: str, score: float, index: int):
    """Annotate a BGR frame in place with the box (colour by state), score and frame number."""
    import cv2
    x, y, w, h = (int(round(v)) for v in box)
    colour = STATE_COLOURS.get(state, (255, 255, 255))
    cv2.rectangle(image, (x, y), (x + w, y + h), colour, 2)
    cv2.putText(image, f"#{index} {state} {score:.2f}", (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, colour, 2)
    return image


def run(args) -> int:
    """``fcot track``: one x,y,w,h line (pixels) per frame, optionally an annotated video; 0, or 2 on an error."""
    import cv2
    from tqdm import tqdm

    from fcot_ros import build_tracker

    capture = None
    try:
        if args.sequence:
            images, default_init = _sequence_source(Path(args.sequence))
            total, frames, fps = len(images), _frames_from_images(images), args.fps or 30.0
        else:
            capture = cv2.VideoCapture(args.video)
            if not capture.isOpened():
                raise FCOTError(f"cannot open video {args.video}")
            default_init = None
            total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
            fps = args.fps or capture.get(cv2.CAP_PROP_FPS) or 30.0
            frames = _frames_from_video(capture)
        if args.init:
            init = parse_box(args.init)
        elif default_init is not None:
            init = default_init
        else:
            raise ValueError("--init x,y,w,h is required (no groundtruth.txt to take the first box from)")
        if args.model.startswith("fcot_"):
            tracker = build_tracker(model=args.model, backend=args.backend, weights=args.weights, preset=args.preset)
        else:
            tracker = build_tracker(model=args.model)
    except (FCOTError, ValueError, OSError) as exc:
        print(f"fcot track: error: {exc}", file=sys.stderr)
        return 2

    if args.max_frames:
        total = min(total, args.max_frames) if total else args.max_frames
    boxes_file = sys.stdout if args.boxes == "-" else open(args.boxes, "w")
    writer = None
    lost = 0
    try:
        bar = tqdm(total=total, unit="fr", desc=args.model, file=sys.stderr, disable=args.quiet)
        for index, image in enumerate(frames):
            if args.max_frames and index >= args.max_frames:
                break
            if index == 0:
                tracker.initialize(image, init)
                box, state, score = init, "init", 1.0
            else:
                result = tracker.track(image)
                box, state, score = result.box, result.state, result.score
                lost += state == "lost"
            boxes_file.write(",".join(f"{v:.2f}" for v in box) + "\n")
            if args.out:
                if writer is None:
                    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
                    writer = cv2.VideoWriter(args.out, cv2.VideoWriter_fourcc(*"mp4v"), fps,
                                             (image.shape[1], image.shape[0]))
                    if not writer.isOpened():
                        raise OSError(f"cannot write video {args.out}")
                writer.write(draw(image, box, state, score, index + 1))
            bar.update(1)
        bar.close()
    except (FCOTError, OSError) as exc:
        print(f"fcot track: error: {exc}", file=sys.stderr)
        return 2
    finally:
        if boxes_file is not sys.stdout:
            boxes_file.close()
        if writer is not None:
            writer.release()
        if capture is not None:
            capture.release()
    if args.boxes != "-":
        print(f"boxes: {args.boxes}", file=sys.stderr)
    if args.out:
        print(f"video: {args.out}", file=sys.stderr)
    return 0
