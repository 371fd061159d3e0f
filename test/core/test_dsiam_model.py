"""dsiam_lite: the network's pieces against independent computations, the tracker on real frames
through build_tracker (shipped weights, ONNX Runtime and torch), bad inputs and bad weight files,
and the unrolled training lowering its loss on real clips."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from fcot_ros import build_tracker
from fcot_ros.assembly.dsiam_loading import load_dsiam_model, save_dsiam, trained_state
from fcot_ros.contract.protocol import Tracker
from fcot_ros.contract.result import STATES
from fcot_ros.datasets import load
from fcot_ros.errors import CheckpointError, ConfigurationError, InvalidBoxError, NotInitializedError
from fcot_ros.models.dsiam_model import DSiamConfig, DSiamModel, centre_transform, gaussian_window, read_window
from fcot_ros.tracker.box_geometry import box_iou

SEQUENCES = "../shared/data/sequences"


@pytest.fixture(scope="module")
def car4():
    from pathlib import Path
    root = Path(__file__).resolve().parents[2] / SEQUENCES
    return {s.name: s for s in load("folder", root)}["otb_Car4"]


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return DSiamModel(DSiamConfig(), imagenet_backbone=False).eval()


def test_read_window_at_cell_centres_is_a_slice():
    f = torch.randn(5, 32, 32, dtype=torch.float64)
    win = read_window(f, (15.5, 15.5), (16, 16))
    assert torch.allclose(win, f[:, 8:24, 8:24])
    moved = read_window(f, (15.5 + 3, 15.5 - 2), (16, 16))
    assert torch.allclose(moved, f[:, 6:22, 11:27])


def test_v_of_an_unchanged_target_is_the_identity(model):
    first = torch.randn(64, 16, 16)
    with torch.no_grad():
        model.log_lambda_v.fill_(math.log(1e-6))
        v = model.learn_v(0, first, first)
        assert torch.allclose(model.transform(v, first), first, atol=1e-3 * float(first.abs().max()))
        # a target that moved by (2, 3) cells: V is that shift, which centre_transform removes
        moved = torch.roll(first, shifts=(2, 3), dims=(-2, -1))
        raw = model.learn_v(0, first, moved) if not model.config.centre_v else None
        model.log_lambda_v.fill_(math.log(0.1))
    from fcot_ros.ops.circulant import rlr
    shifted = rlr(first, moved, 1e-6 * float((first * first).sum()))
    peak = divmod(int(shifted.sum(0).argmax()), 16)
    assert peak == (2, 3) and raw is None
    centred = centre_transform(shifted)
    assert divmod(int(centred.sum(0).argmax()), 16) == (0, 0)


def test_batched_correlation_equals_one_by_one(model):
    t = torch.randn(3, 64, 16, 16)
    z = torch.randn(3, 64, 32, 32)
    with torch.no_grad():
        both = model.correlate(0, t, z)
        single = torch.cat([model.correlate(0, t[i:i + 1], z[i:i + 1]) for i in range(3)])
        plain = torch.cat([F.conv2d(z[i:i + 1], t[i:i + 1]) for i in range(3)])
    assert both.shape == (3, 1, 17, 17)
    assert torch.allclose(both, single, atol=1e-5)
    expected = model.response_scale[0] * plain / (64 * 16 * 16) + model.response_bias[0]
    assert torch.allclose(both, expected, atol=1e-5)


def test_fusion_with_equal_logits_averages_the_aligned_levels(model):
    fine = torch.randn(2, 1, 17, 17)
    coarse = torch.randn(2, 1, 9, 9)
    with torch.no_grad():
        fused = model.fuse([fine, coarse])
    up = F.interpolate(coarse, size=(17, 17), mode="bilinear", align_corners=True)
    assert torch.allclose(fused, 0.5 * (fine + up), atol=1e-6)
    assert torch.allclose(up[..., ::2, ::2], coarse)          # coarse cell j lands on fine cell 2j


def test_gaussian_window_peaks_at_its_centre():
    g = gaussian_window(32, (10.0, 20.0), (2.0, 3.0))
    assert divmod(int(g.argmax()), 32) == (20, 10) and float(g.max()) == pytest.approx(1.0)
    assert float(g[20, 12]) == pytest.approx(math.exp(-0.5), rel=1e-5)


def test_dsiam_lite_tracks_a_real_sequence_with_its_shipped_weights(car4):
    tracker = build_tracker(model="dsiam_lite", backend="onnxruntime")
    assert isinstance(tracker, Tracker) and tracker.model_name == "dsiam_lite"
    assert tracker.backend_name == "onnxruntime"
    with pytest.raises(NotInitializedError):
        tracker.track(car4.frames.read(0))
    tracker.initialize(car4.frames.read(0), car4.boxes[0])
    ious, results = [], []
    for i in range(1, 60):
        r = tracker.track(car4.frames.read(i))
        results.append(r)
        ious.append(box_iou(r.box, car4.boxes[i]))
    assert np.mean(ious) > 0.5, np.round(ious, 2)
    assert all(r.state in STATES and 0.0 <= r.score <= 1.0 for r in results)
    assert set(results[-1].timings) == {"crop", "network", "decode", "optimizers"}


def test_backends_agree_on_the_features(car4):
    onnx = build_tracker(model="dsiam_lite", backend="onnxruntime")
    eager = build_tracker(model="dsiam_lite", backend="torch")
    assert eager.backend_name == "torch"
    from fcot_ros.tracker.crop import extract_crop
    crops = np.stack([extract_crop(car4.frames.read(0), (100.0, 80.0), s, 256) for s in (0.8, 1.0)])
    for a, b in zip(onnx.runtime.extract(crops), eager.runtime.extract(crops)):
        assert a.shape == b.shape
        assert torch.allclose(a, b, rtol=1e-3, atol=1e-3 * float(b.abs().max()))


def test_bad_inputs_leave_the_tracker_usable(car4):
    tracker = build_tracker(model="dsiam_lite", backend="torch", preset="static")
    image = car4.frames.read(0)
    for box in [(0, 0, 0, 0), (float("nan"), 1, 5, 5), (5000, 5000, 10, 10)]:
        with pytest.raises(InvalidBoxError):
            tracker.initialize(image, box)
    tracker.initialize(image, car4.boxes[0])
    assert tracker.track(car4.frames.read(1)).state in STATES
    with pytest.raises(ConfigurationError):
        build_tracker(model="dsiam_lite", preset="training_free")
    with pytest.raises(ConfigurationError):
        build_tracker(model="dsiam_lite", no_such_parameter=1)


def test_wrong_and_broken_weight_files_are_refused(tmp_path, model):
    from fcot_ros.assembly.registry import WEIGHTS_DIR
    with pytest.raises(CheckpointError, match="fcot_lite"):
        load_dsiam_model(WEIGHTS_DIR / "fcot_lite.pt")
    good = tmp_path / "good.pt"
    save_dsiam(good, model)
    assert set(trained_state(load_dsiam_model(good))) == set(trained_state(model))
    from fcot_ros.checkpoints.native import load_checkpoint, save_checkpoint
    state, meta = load_checkpoint(good)
    del state["fusion_logits"]
    state["extra.weight"] = torch.zeros(1)
    save_checkpoint(tmp_path / "keys.pt", state, meta)
    with pytest.raises(CheckpointError, match=r"missing \['fusion_logits'\].*unexpected \['extra.weight'\]"):
        load_dsiam_model(tmp_path / "keys.pt")
    state, meta = load_checkpoint(good)
    state["log_lambda_v"] = torch.tensor([float("nan"), 0.0])
    save_checkpoint(tmp_path / "nan.pt", state, meta)
    with pytest.raises(CheckpointError, match="non-finite"):
        load_dsiam_model(tmp_path / "nan.pt")
    broken = tmp_path / "broken.pt"
    broken.write_bytes(good.read_bytes()[:1000])
    with pytest.raises(CheckpointError):
        load_dsiam_model(broken)
    with pytest.raises(CheckpointError, match="other settings"):
        load_dsiam_model(good, channels=32)


def test_unrolled_training_lowers_the_loss_on_real_clips():
    """A few SGD steps on two fixed real clips (V and W on, through the closed-form RLR / CirConv
    backward) lower the unrolled loss on those clips."""
    from training.config import resolve_path
    from training.data.sources import load_source
    from training.dsiam_clips import ClipSampler
    from training.dsiam_train import trainable, unrolled_loss
    torch.manual_seed(0)
    net = DSiamModel(DSiamConfig()).train()
    seqs = load_source("folder", resolve_path(SEQUENCES))
    sampler = ClipSampler(seqs, net.config, length=4, max_gap=2)
    rng = np.random.default_rng(3)
    clips = [sampler.draw(rng) for _ in range(2)]

    def loss():
        return sum(unrolled_loss(net, c, True, True)[0] for c in clips) / len(clips)

    params = trainable(net, ["adjust", "response", "fusion", "lambdas"])
    opt = torch.optim.SGD(params, lr=5e-2, momentum=0.9)
    with torch.no_grad():
        before = float(loss())
    for _ in range(12):
        opt.zero_grad()
        value = loss()
        value.backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in params)
        opt.step()
    with torch.no_grad():
        after = float(loss())
    assert after < 0.85 * before, (before, after)
