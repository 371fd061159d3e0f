"""The GPU ratchet's parts on the CPU: the compact pack (only training videos, downscaled with its
boxes, within its byte budget, start weights that load without the backbone package), the time
budget of a training run, and the whole prepared device script as a dry run."""
import json
import math
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from fcot_ros.assembly import load_model, model_spec, resolve_weights
from fcot_ros.checkpoints import describe_checkpoint
from fcot_ros.errors import FCOTError
from training.config import RecipeError, load_recipe
from training.data.sources import load_source
from training.pack import INIT_NAME, build_pack
from training.trainer import train

REPO = Path(__file__).resolve().parents[2]
SPLIT = REPO / "training" / "splits" / "fcot_lite_val.txt"
TRAIN_NAME, VAL_NAME = "otb_Car4", "otb_Jogging1"        # otb_Jogging1 is a validation video


@pytest.fixture(scope="module")
def pack(shared_data, tmp_path_factory):
    """A pack of one training and one validation sequence (linked into one root), target side 32 px."""
    root = tmp_path_factory.mktemp("roots")
    for name in (TRAIN_NAME, VAL_NAME):
        (root / name).symlink_to(shared_data / "sequences" / name, target_is_directory=True)
    out = tmp_path_factory.mktemp("pack") / "pack"
    manifest = build_pack(out, [root], SPLIT, budget_mib=48, frame_step=3, target_px=32, log=lambda *_: None)
    return out, manifest


def test_pack_holds_the_training_videos_downscaled_with_their_boxes(pack, shared_data):
    out, manifest = pack
    sequences = load_source("folder", out)
    assert [s.name for s in sequences] == [TRAIN_NAME]           # the validation video is left out
    assert manifest["sequences"] == 1 and VAL_NAME in manifest["validation_videos_excluded"]
    original = load_source("folder", shared_data / "sequences" / TRAIN_NAME)[0]
    packed = sequences[0]
    assert len(packed) == math.ceil(len(original) / 3) == manifest["frames"]
    # scale = 32 px over the median target side (otb_Car4's car is ~100 px: about 0.33)
    sides = np.sqrt(original.boxes[:, 2] * original.boxes[:, 3])
    scale = 32 / np.median(sides)
    for k in (0, len(packed) // 2, len(packed) - 1):
        big, small = original.frame(3 * k), packed.frame(k)
        assert small.shape[:2] == (round(big.shape[0] * scale), round(big.shape[1] * scale))
        np.testing.assert_allclose(packed.boxes[k], original.boxes[3 * k] * scale, atol=0.006)
        # the packed frame is the original one scaled (JPEG-coded): compare at the packed size
        reference = cv2.resize(big, small.shape[1::-1], interpolation=cv2.INTER_AREA).astype(float)
        assert np.abs(small.astype(float) - reference).mean() < 6.0


def test_pack_start_weights_are_the_shipped_ones_with_their_backbone(pack):
    out, _ = pack
    assert "backbone." not in describe_checkpoint(out / INIT_NAME)["omitted_prefixes"]
    state = torch.load(out / INIT_NAME, map_location="cpu", weights_only=True)["state_dict"]
    assert any(k.startswith("backbone.") for k in state)
    shipped = load_model("fcot_lite", resolve_weights(model_spec("fcot_lite"), None, "default")).state_dict()
    assert set(state) == set(shipped)
    assert all(torch.equal(state[k], shipped[k]) for k in shipped)


@pytest.mark.slow
def test_pack_refuses_a_budget_it_cannot_meet(shared_data, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / TRAIN_NAME).symlink_to(shared_data / "sequences" / TRAIN_NAME, target_is_directory=True)
    with pytest.raises(FCOTError, match="JPEG quality"):
        build_pack(tmp_path / "pack", [root], SPLIT, budget_mib=8.6, frame_step=1, target_px=200,
                   log=lambda *_: None)


def test_a_negative_time_budget_is_refused():
    with pytest.raises(RecipeError, match="max_minutes"):
        load_recipe(REPO / "training/configs/fcot_lite_gpu_ratchet.yaml", ["run.max_minutes=-1"])


@pytest.mark.slow
def test_max_minutes_stops_after_the_step_that_crosses_it(pack, tmp_path):
    out, _ = pack
    sets = ["run.batch_size=1", "data.samples_per_epoch=2", "run.device=cpu", "run.progress=false",
            "data.workers=0", f"model.init_weights={out / INIT_NAME}", f"data.sources.0.root={out}",
            f"data.sources.1.root={out}", "optim.epochs=50", "run.max_minutes=0.0005"]    # 30 ms: one step
    result = train(load_recipe(REPO / "training/configs/fcot_lite_gpu_ratchet.yaml", sets), out_dir=tmp_path / "r")
    assert result.steps == 1 and result.epochs == 0               # stopped inside epoch 1
    state = torch.load(tmp_path / "r" / "checkpoint_last.pt", map_location="cpu", weights_only=False)
    assert state["extra"]["step"] == 1 and "optimizer" in state["extra"]


@pytest.mark.slow
def test_device_script_dry_run_on_the_cpu(pack, tmp_path):
    """The prepared device run, shrunk: timings and agreement of torch and ONNX Runtime, a training run
    that stops on its time budget, and a shipped weights file that differs from the start weights."""
    out, _ = pack
    results = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "training.gpu_ratchet", "--dry-run", "--pack", str(out),
                           "--out", str(results), "--work", str(tmp_path / "work")],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads((results / "results.json").read_text())
    assert set(data["timings"]) >= {"torch_cpu_fp32", "onnxruntime_cpu"}
    assert data["timings"]["torch_cpu_fp32"]["network_ms_median"] > 0
    assert data["agreement"]["mean_iou"]["onnxruntime_cpu"] > 0.9
    assert data["training"]["returncode"] == 0 and data["training"]["steps"] >= 1
    trained = torch.load(results / "fcot_lite_ratchet.pt", map_location="cpu", weights_only=True)["state_dict"]
    start = torch.load(out / INIT_NAME, map_location="cpu", weights_only=True)["state_dict"]
    assert not all(torch.equal(trained[k], start[k]) for k in trained)
    assert (results / "events.tfevents").is_file() and (results / "train.log").is_file()
