"""Recipes: every shipped YAML reads and validates, unknown keys and wrong types are refused with the
key's path, --set overrides reach any field, and the resolved recipe round-trips through config.yaml."""
import re
from pathlib import Path

import pytest

from training.config import RecipeError, load_recipe, recipe_to_dict, write_recipe

ALL_CONFIGS = sorted((Path(__file__).resolve().parents[2] / "training" / "configs").glob("*.yaml"))
DSIAM_CONFIGS = [p for p in ALL_CONFIGS if p.stem.startswith("dsiam_")]     # training.dsiam_train's recipes
CONFIGS = [p for p in ALL_CONFIGS if p not in DSIAM_CONFIGS]


def test_there_are_recipes_for_both_models():
    names = {p.stem for p in CONFIGS}
    assert {"fcot_lite_cpu", "fcot_lite_gpu", "fcot_r50_3stage_s1", "fcot_r50_3stage_s2", "fcot_r50_3stage_s3",
            "fcot_r50_2stage_s1", "fcot_r50_2stage_s2"} <= names


@pytest.mark.parametrize("path", DSIAM_CONFIGS, ids=lambda p: p.stem)
def test_dsiam_recipes_read_and_refuse_bad_fields(path, tmp_path):
    from training.dsiam_train import RecipeError as DSiamRecipeError
    from training.dsiam_train import load_dsiam_recipe
    recipe = load_dsiam_recipe(path, ["optim.steps=3", "unroll.use_w=false"])
    assert recipe["optim"]["steps"] == 3 and recipe["unroll"]["use_w"] is False
    bad = tmp_path / "bad.yaml"
    bad.write_text(path.read_text() + "\nsurprise: 1\n")
    with pytest.raises(DSiamRecipeError, match="surprise"):
        load_dsiam_recipe(bad)
    with pytest.raises(DSiamRecipeError, match="unknown part"):
        load_dsiam_recipe(path, ["model.train=[adjust, backbone]"])
    with pytest.raises(DSiamRecipeError, match="not a dsiam_lite recipe"):
        load_dsiam_recipe(CONFIGS[0])


@pytest.mark.slow
def test_dsiam_recipe_runs_from_its_file(tmp_path, shared_data):
    """`python -m training --config training/configs/dsiam_lite_cpu.yaml` (3 steps, from a stage-1
    checkpoint made here by the pairs recipe): both stages run and write loadable checkpoints."""
    import subprocess
    import sys

    from fcot_ros.assembly.dsiam_loading import load_dsiam_model
    repo = Path(__file__).resolve().parents[2]
    pairs = tmp_path / "pairs"
    for config, out, extra in [("dsiam_lite_pairs_cpu.yaml", pairs, []),
                               ("dsiam_lite_cpu.yaml", tmp_path / "joint",
                                ["--set", f"model.init={pairs / 'checkpoint_last.pt'}"])]:
        recipe = str(repo / "training" / "configs" / config)
        args = ["--config", recipe, "--set", "optim.steps=3", "--set", "optim.batch=1", "--out", str(out), *extra]
        done = subprocess.run([sys.executable, "-m", "training", *args], capture_output=True, text=True, cwd=repo,
                              timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "3 steps" in done.stdout, done.stdout
        load_dsiam_model(out / "checkpoint_last.pt")


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_every_shipped_recipe_validates(path, tmp_path):
    recipe = load_recipe(path)
    assert recipe.model.train and recipe.optim.param_groups and recipe.data.sources
    out = tmp_path / "config.yaml"
    write_recipe(recipe, out)
    assert recipe_to_dict(load_recipe(out)) == recipe_to_dict(recipe)


def _write(tmp_path, text):
    path = tmp_path / "r.yaml"
    path.write_text(text)
    return path


MINIMAL = """
model: {name: fcot_lite, train: [cls18]}
data: {sources: [{kind: folder, root: ../shared/data/train}]}
loss: {cls18: {final: 1.0}}
optim: {param_groups: [{modules: [cls18], lr: 1.0e-4}]}
"""


def test_unknown_keys_are_refused_with_their_path(tmp_path):
    assert load_recipe(_write(tmp_path, MINIMAL)).model.name == "fcot_lite"
    for bad, where in ((MINIMAL + "extra: 1\n", "extra"),
                       (MINIMAL.replace("root: ../shared/data/train", "root: x, wieght: 2"), "data.sources[0].wieght"),
                       (MINIMAL.replace("{final: 1.0}", "{final: 1.0, fnal: 2}"), "loss.cls18.fnal")):
        with pytest.raises(RecipeError, match=r"unknown key\(s\) " + re.escape(where)):
            load_recipe(_write(tmp_path, bad))


def test_wrong_types_and_contradictions_are_refused(tmp_path):
    with pytest.raises(RecipeError, match="data.samples_per_epoch: expected an integer"):
        load_recipe(_write(tmp_path, MINIMAL), ["data.samples_per_epoch=many"])
    with pytest.raises(RecipeError, match="model.name 'fcot_x'"):
        load_recipe(_write(tmp_path, MINIMAL), ["model.name=fcot_x"])
    with pytest.raises(RecipeError, match="kind 'imagenet'"):
        load_recipe(_write(tmp_path, MINIMAL), ["data.sources.0.kind=imagenet"])
    with pytest.raises(RecipeError, match="model.train names no module"):
        load_recipe(_write(tmp_path, MINIMAL), ["model.train=[]"])
    with pytest.raises(RecipeError, match="optim is required"):
        load_recipe(_write(tmp_path, MINIMAL.replace("optim: {param_groups: [{modules: [cls18], lr: 1.0e-4}]}", "")))


def test_set_overrides_reach_nested_fields(tmp_path):
    recipe = load_recipe(_write(tmp_path, MINIMAL), ["run.batch_size=3", "data.sources.0.weight=0.5",
                                                    "model.settings={crop_size: 160}", "optim.milestones=[2, 4]"])
    assert recipe.run.batch_size == 3 and recipe.data.sources[0].weight == 0.5
    assert recipe.model.settings == {"crop_size": 160} and recipe.optim.milestones == (2, 4)
