"""Real training runs on the shared sequences (small crops and few steps, so that they fit CI): the
loss goes down, a stopped and resumed run ends bit-equal to a straight one, its checkpoint tracks
through build_tracker, a 2-process gloo DDP step averages the single-process gradients, and the
shipped CPU recipe runs from its own file."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from fcot_ros import build_tracker
from fcot_ros.assembly import load_model
from training.actor import FCOTActor
from training.config import load_recipe
from training.data.dataset import SampleDataset, collate, load_sources
from training.trainer import build_training_model, train

REPO = Path(__file__).resolve().parents[2]
RECIPE = REPO / "training" / "configs" / "fcot_lite_cpu.yaml"
SCRIPTS = Path(__file__).resolve().parent / "scripts"
# a small, fast variant of the shipped recipe: 128-pixel crops, 2 sequences a step, no export
SMALL = ["model.settings={crop_size: 128}", "run.batch_size=2", "data.samples_per_epoch=4", "run.export=false",
         "run.progress=false", "run.log_every=1", "optim.milestones=[]"]


def _loss_on(model, recipe, items):
    actor = FCOTActor(model, recipe.model, recipe.loss)
    model.eval()
    with torch.no_grad():
        return float(actor(collate(items))[0])


@pytest.mark.slow
def test_short_run_lowers_the_loss(shared_data, tmp_path):
    """Six epochs over the same four real samples (data.resample_every_epoch false): their loss drops."""
    recipe = load_recipe(RECIPE, SMALL + ["optim.epochs=6", "run.seed=1", "data.resample_every_epoch=false",
                                          "optim.param_groups.0.lr=1.0e-3", "optim.param_groups.1.lr=1.0e-3"])
    samples = SampleDataset(load_sources(recipe.data), recipe.data, 128, seed=recipe.run.seed)
    items = [samples[i] for i in range(4)]
    torch.manual_seed(recipe.run.seed)
    before = _loss_on(build_training_model(recipe), recipe, items)
    result = train(recipe, out_dir=tmp_path / "run")
    assert result.steps == 12 and result.epochs == 6
    trained = load_model("fcot_lite", result.checkpoint)      # the network at the training crop (288)
    after = _loss_on(trained, recipe, items)
    assert after < 0.8 * before, (before, after)
    assert (tmp_path / "run" / "config.yaml").is_file() and any((tmp_path / "run" / "tensorboard").iterdir())
    assert result.samples_per_second > 0


@pytest.mark.slow
def test_resume_continues_bit_equal(shared_data, tmp_path):
    common = SMALL + ["optim.epochs=2", "optim.milestones=[1]"]
    straight = train(load_recipe(RECIPE, common), out_dir=tmp_path / "a")
    stopped = train(load_recipe(RECIPE, common + ["run.max_steps=3"]), out_dir=tmp_path / "b")
    assert stopped.steps == 3 and stopped.epochs == 1          # stopped inside the second epoch
    resumed = train(load_recipe(RECIPE, common), resume=stopped.checkpoint, out_dir=tmp_path / "c")
    assert resumed.steps == straight.steps == 4
    a = torch.load(straight.checkpoint, weights_only=True)
    c = torch.load(resumed.checkpoint, weights_only=True)
    for key, value in a["state_dict"].items():
        assert torch.equal(value, c["state_dict"][key]), key
    assert a["extra"]["scheduler"] == c["extra"]["scheduler"]
    for sa, sc in zip(a["extra"]["optimizer"]["state"].values(), c["extra"]["optimizer"]["state"].values()):
        assert all(torch.equal(sa[k], sc[k]) for k in sa)
    # the checkpoint is an ordinary model checkpoint too: it tracks a real sequence
    seq = load_sources(load_recipe(RECIPE).data)[0].sequences[0]
    tracker = build_tracker(model="fcot_lite", backend="torch", weights=straight.checkpoint)
    tracker.initialize(seq.frame(0), tuple(seq.boxes[0]))
    assert np.isfinite(tracker.track(seq.frame(1)).box).all()


@pytest.mark.slow
def test_ddp_two_processes_average_the_single_process_gradients(shared_data, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1"}
    sets = SMALL + ["run.seed=3"]
    single, double = tmp_path / "single.pt", tmp_path / "ddp.pt"
    subprocess.run([sys.executable, str(SCRIPTS / "ddp_gradients.py"), str(RECIPE), str(single), *sets],
                   check=True, env=env, timeout=600, cwd=str(REPO))
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                    str(SCRIPTS / "ddp_gradients.py"), str(RECIPE), str(double), *sets, "run.batch_size=1"],
                   check=True, env=env, timeout=600, cwd=str(REPO))
    a, b = torch.load(single, weights_only=True), torch.load(double, weights_only=True)
    assert a.keys() == b.keys() and len(a) > 50
    for key in a:   # float32 sums in another order: agreement to rounding, per tensor
        error = float((b[key] - a[key]).norm() / a[key].norm().clamp(min=1e-12))
        assert error < 1e-3, (key, error)


@pytest.mark.slow
def test_shipped_cpu_recipe_runs_from_its_file(shared_data, tmp_path):
    """fcot_lite_cpu.yaml as shipped (288-pixel crops, its data, split and losses): two steps, export."""
    run = subprocess.run([sys.executable, "-m", "training", "--config", str(RECIPE), "--out", str(tmp_path / "r"),
                          "--set", "run.max_steps=2", "--set", "run.batch_size=1", "--set", "run.progress=false"],
                         capture_output=True, text=True, timeout=900, cwd=str(REPO))
    assert run.returncode == 0, run.stderr[-3000:]
    assert "2 steps" in run.stdout and (tmp_path / "r" / "export" / "fcot_lite_features.onnx").is_file()


@pytest.mark.slow
def test_bad_recipe_is_refused_by_the_command(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(RECIPE.read_text().replace("freeze_bn: true", "freeze_bn: true\n  frozen_bn: true"))
    run = subprocess.run([sys.executable, "-m", "training", "--config", str(bad)], capture_output=True, text=True,
                         timeout=300, cwd=str(REPO))
    assert run.returncode == 2 and "unknown key(s) model.frozen_bn" in run.stderr
