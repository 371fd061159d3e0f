"""Checkpoints rebuild what they saved (every network and optimizer setting), an explicit request
that contradicts a checkpoint is refused naming the field, fcot_ros/1 files still load, and the one
registry of models and backends refuses unknown names with the package's error type."""
import pytest
import torch

from fcot_ros.assembly import BACKENDS, MODEL_NAMES, build_tracker, load_model
from fcot_ros.checkpoints import load_into_model, save_checkpoint, save_model
from fcot_ros.checkpoints.legacy import LEGACY_KEY_TABLE
from fcot_ros.errors import CheckpointError, ConfigurationError, FCOTError
from fcot_ros.models.config import config_to_dict, get_config
from fcot_ros.models.fcot_model import FCOTModel, build_model

# non-default values for settings of every kind: network, the three optimizers' structure and init
NON_DEFAULT = dict(norm_scale_coef=1.5, cls18={"bin_displacement": 0.2, "mask_radius": 3.0, "num_iter": 3},
                   cls72={"init_gauss_sigma": 1.2, "num_dist_bins": 60},
                   reg={"label_radius": 1, "step_rule": "authors", "init_filter_reg": 0.5})


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """An fcot_lite with non-default settings and perturbed tensors, saved in our format."""
    net = FCOTModel(get_config("fcot_lite", **NON_DEFAULT), imagenet_backbone=False)
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.01 * torch.randn(p.shape, generator=g))
    path = tmp_path_factory.mktemp("ckpt") / "lite_custom.pt"
    save_model(path, net, epoch=7)
    return net, path


def test_checkpoint_rebuilds_every_setting(saved):
    net, path = saved
    loaded = load_model("fcot_lite", path)
    assert loaded.config == net.config          # every field, nested optimizer settings included
    assert loaded.cls18.optimizer.label_map_predictor.displacement == 0.2
    assert loaded.cls72.optimizer.label_map_predictor.weight.shape[1] == 60
    assert loaded.reg.optimizer.label_radius == 1 and loaded.reg.optimizer.step_rule == "authors"
    assert loaded.cls18.optimizer.num_iter == 3
    assert loaded.cls72.head.norm.scale == net.cls72.head.norm.scale
    reference = net.state_dict()
    for key, value in loaded.state_dict().items():
        assert torch.equal(value, reference[key]), key


def test_a_request_that_contradicts_the_checkpoint_is_refused(saved):
    _, path = saved
    with pytest.raises(CheckpointError, match=r"reg\.step_rule"):
        load_model("fcot_lite", path, reg={"step_rule": "masked"})
    with pytest.raises(CheckpointError, match=r"norm_scale_coef"):
        load_model("fcot_lite", path, norm_scale_coef=2.0)
    with pytest.raises(CheckpointError, match="fcot_lite checkpoint, not fcot_r50"):
        load_model("fcot_r50", path)
    # asking for what the checkpoint holds is fine
    assert load_model("fcot_lite", path, reg={"label_radius": 1}).reg.optimizer.label_radius == 1


def test_load_into_a_model_built_otherwise_names_the_fields(saved):
    _, path = saved
    with pytest.raises(CheckpointError) as info:
        load_into_model(build_model("fcot_lite", imagenet_backbone=False), path)
    for field in ("norm_scale_coef", "cls18.bin_displacement", "reg.label_radius", "reg.step_rule"):
        assert field in str(info.value)


def test_fcot_ros_1_checkpoint_still_loads(saved, tmp_path):
    """A file in the earlier layout (features.* keys, optimizer settings in meta['optimizer_init'])."""
    net, _ = saved
    inverse = [(new, old) for old, new in LEGACY_KEY_TABLE]
    old_state = {}
    for key, value in net.state_dict().items():
        prefix = next(new for new, _ in inverse if key.startswith(new))
        old_state[dict(inverse)[prefix] + key[len(prefix):]] = value
    config = config_to_dict(net.config)
    optimizer_init = {k: config.pop(k) for k in ("cls18", "cls72", "reg")}
    path = tmp_path / "v1.pt"
    torch.save({"format": "fcot_ros/1", "meta": {"model": "fcot_lite", "config": config,
                                                 "optimizer_init": optimizer_init},
                "state_dict": old_state}, path)
    loaded = load_model("fcot_lite", path)
    assert loaded.config == net.config
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in loaded.state_dict().items())


def test_save_without_config_falls_back_to_model_defaults(tmp_path):
    net = build_model("fcot_lite", imagenet_backbone=False)
    path = tmp_path / "bare.pt"
    save_checkpoint(path, net.state_dict(), {"model": "fcot_lite"})
    assert load_model("fcot_lite", path).config == net.config


def test_registry_refuses_unknown_names_with_package_errors():
    assert MODEL_NAMES[:2] == ("fcot_lite", "fcot_r50") and "opencv_csrt" in MODEL_NAMES
    assert BACKENDS[0] == "auto" and set(BACKENDS) == {"auto", "tensorrt", "onnxruntime", "torch"}
    for kwargs, match in (({"model": "nope"}, "unknown model 'nope'"), ({"backend": "cuda"}, "unknown backend"),
                          ({"preset": "fast"}, "unknown preset"), ({"no_such_param": 1}, "no_such_param"),
                          ({"compat": "legacy"}, "compat")):
        with pytest.raises(ConfigurationError, match=match):
            build_tracker(**{"model": "fcot_lite", "backend": "torch", **kwargs})
    with pytest.raises(FCOTError, match="needs weights"):
        build_tracker(model="fcot_r50", backend="torch")
    with pytest.raises(ConfigurationError, match="no such|unknown model setting"):
        load_model("fcot_lite", model_width=3)


def test_checkpoint_without_the_frozen_backbone(tmp_path):
    """A file that leaves out the backbone (its ImageNet weights install with the package) loads
    back to the same model; a file missing any other tensor is refused."""
    net = build_model("fcot_lite")
    with torch.no_grad():
        net.cls72.head.body.conv1.weight.add_(0.5)
    path = tmp_path / "heads.pt"
    save_model(path, net, omit_prefixes=("backbone.",))
    assert not any(k.startswith("backbone.") for k in torch.load(path, weights_only=True)["state_dict"])
    loaded = load_model("fcot_lite", path)
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in loaded.state_dict().items())
    payload = torch.load(path, weights_only=True)
    del payload["state_dict"]["cls72.head.body.conv1.weight"]
    torch.save(payload, tmp_path / "broken.pt")
    with pytest.raises(CheckpointError, match=r"missing.*cls72\.head\.body\.conv1\.weight"):
        load_model("fcot_lite", tmp_path / "broken.pt")


def test_missing_or_corrupt_shipped_weights_name_the_file(tmp_path, monkeypatch):
    """No silent fall-back to untrained heads: the default fcot_lite needs its shipped file."""
    import fcot_ros.assembly.registry as registry
    monkeypatch.setattr(registry, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(CheckpointError, match=str(tmp_path / "fcot_lite.pt")):
        build_tracker(model="fcot_lite", backend="torch")
    (tmp_path / "fcot_lite.pt").write_bytes(b"\x00" * 1000)
    with pytest.raises(CheckpointError, match=str(tmp_path / "fcot_lite.pt")):
        build_tracker(model="fcot_lite", backend="torch")
    # the training-free preset is the hand-initialised network, no file needed
    assert build_tracker(model="fcot_lite", backend="torch", preset="training_free").model.config.hand_init


def test_shipped_weights_are_the_default():
    """The default tracker's network holds every tensor of the shipped file, bit for bit (all 92:
    the file omits only the frozen ImageNet backbone), and the training-free network differs from it.

    Measured (the separable weights of 2026-12-08): 83 of the 92 tensors differ from the training-free
    network or are not in it (28 are the separable layers' factors, which the full training-free network
    does not have); the 9 equal ones are the RMG's zero-initialised offset/mask convolutions and the
    regression optimizer's step length, which training left where they started. Asserted: >= 80 differ."""
    from fcot_ros.assembly.registry import WEIGHTS_DIR
    shipped = WEIGHTS_DIR / "fcot_lite.pt"
    assert shipped.is_file()
    in_file = torch.load(shipped, map_location="cpu", weights_only=True)["state_dict"]
    default = build_tracker(model="fcot_lite", backend="torch").model.state_dict()
    untrained = build_tracker(model="fcot_lite", backend="torch", preset="training_free").model.state_dict()
    assert sorted(in_file) == sorted(k for k in default if not k.startswith("backbone."))
    unequal = [k for k, v in in_file.items() if not torch.equal(default[k], v)]
    assert not unequal, f"the default network does not hold the shipped tensors {unequal[:5]}"
    trained = load_model("fcot_lite", shipped).state_dict()
    assert all(torch.equal(default[k], trained[k]) for k in trained)       # backbone included
    differ = [k for k, v in in_file.items() if k not in untrained or not torch.equal(untrained[k], v)]
    assert len(differ) >= 80, f"only {len(differ)} of {len(in_file)} shipped tensors differ from the untrained ones"
