"""Checkpoint layer: import of the authors' FCOT checkpoint (format fixture) and our own format."""
import json
import os
import pickle
import re
import types
from pathlib import Path

import pytest
import torch

from fcot_ros.checkpoints import (
    FORMAT,
    detect_format,
    import_authors_checkpoint,
    load_checkpoint,
    load_into_model,
    load_weights,
    map_authors_key,
    model_overrides,
    read_authors_checkpoint,
    save_checkpoint,
    save_model,
)
from fcot_ros.errors import CheckpointError
from fcot_ros.models.fcot_model import build_model

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference"
FIXTURE = REFERENCE / "fcot_format_fixture.pth.tar"
FIXTURE_JSON = REFERENCE / "fcot_format_fixture.json"

needs_fixture = pytest.mark.skipif(
    not (FIXTURE.is_file() and FIXTURE_JSON.is_file()),
    reason=f"authors' format fixture not found under {REFERENCE} (../shared/reference next to the repo)")

DROPPED = ("feature_extractor.layer4.", "feature_extractor.fc.")

# The correspondence written out independently of the module's table (from the reference notes):
# authors' key regex -> our key. Sequential heads: 0 conv1, 1 gn1, 3 dcn1, 4 gn2, 6 dcn2.
_SEQ = {"0": "conv1", "1": "gn1", "3": "dcn1", "4": "gn2", "6": "dcn2"}
_EXPECTED_RULES = [
    (r"feature_extractor\.((conv1|bn1|layer[123])\..*)", lambda m: f"backbone.{m[1]}"),
    (r"pyramid_first_conv\.res_conv\.(.*)", lambda m: f"decoder.lateral_18.{m[1]}"),
    (r"pyramid_36\.res_conv\.(.*)", lambda m: f"decoder.lateral_36.{m[1]}"),
    (r"pyramid_72\.res_conv\.(.*)", lambda m: f"decoder.lateral_72.{m[1]}"),
    (r"pyramid_72\.pyramid_conv\.(.*)", lambda m: f"decoder.smooth_72.{m[1]}"),
    (r"classifier_18\.feature_extractor\.0\.(.*)", lambda m: f"cls18.head.conv.{m[1]}"),
    (r"classifier_(18|72)\.filter_initializer\.filter_conv\.(.*)",
     lambda m: f"cls{m[1]}.initializer.filter_conv.{m[2]}"),
    (r"classifier_(18|72)\.filter_optimizer\.target_mask_predictor\.0\.weight",
     lambda m: f"cls{m[1]}.optimizer.target_mask_predictor.weight"),
    (r"classifier_(18|72)\.filter_optimizer\.(log_step_length|filter_reg|label_map_predictor\.weight"
     r"|spatial_weight_predictor\.weight)", lambda m: f"cls{m[1]}.optimizer.{m[2]}"),
    (r"classifier_72\.feature_extractor\.([0-9])\.(.*)", lambda m: f"cls72.head.body.{_SEQ[m[1]]}.{m[2]}"),
    (r"regressor_72\.reg_head_(36|72)\.([0-9])\.(.*)",
     lambda m: f"reg.head.head_{m[1]}.{_SEQ[m[2]]}.{m[3]}"),
    (r"regressor_72\.reg_head_merge\.(.*)", lambda m: f"reg.head.merge.{m[1]}"),
    (r"regressor_72\.reg_initializer_(36|72)\.([0-9])\.(.*)",
     lambda m: f"reg.initializer.head_{m[1]}.{_SEQ[m[2]]}.{m[3]}"),
    (r"regressor_72\.reg_initializer_merge\.(.*)", lambda m: f"reg.initializer.merge.{m[1]}"),
    (r"regressor_72\.filter_optimizer\.(log_step_length|filter_reg)", lambda m: f"reg.optimizer.{m[1]}"),
]


def expected_key(authors_key):
    """Our key for an authors' key per the independent rules above (None if no rule matches)."""
    hits = [fn(m) for rx, fn in _EXPECTED_RULES if (m := re.fullmatch(rx, authors_key))]
    assert len(hits) <= 1, f"ambiguous test rules for {authors_key}: {hits}"
    return hits[0] if hits else None


@pytest.fixture(scope="module")
def fixture_tensors():
    return json.loads(FIXTURE_JSON.read_text())["tensors"]


@pytest.fixture(scope="module")
def r50_shapes():
    net = build_model("fcot_r50", imagenet_backbone=False)
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}


def _plain_copy_of_fixture():
    """The fixture's checkpoint dict with its stubbed ltr objects replaced by picklable stand-ins."""
    ckpt = read_authors_checkpoint(FIXTURE)
    kwds = dict(ckpt["constructor"].kwds)
    ckpt["constructor"] = types.SimpleNamespace(fun_name="fcotnet", kwds=kwds)
    ckpt["settings"] = None
    ckpt["stats"] = None
    return ckpt


def _save_legacy(obj, path):
    torch.save(obj, path, _use_new_zipfile_serialization=False)
    return path


@needs_fixture
def test_every_fixture_tensor_lands_in_the_right_place(fixture_tensors, r50_shapes):
    net = build_model("fcot_r50", imagenet_backbone=False)
    state_dict, info = import_authors_checkpoint(FIXTURE, r50_shapes)
    net.load_state_dict(state_dict, strict=True)
    loaded = net.state_dict()
    landed = set()
    for entry in fixture_tensors:
        key = entry["key"]
        if key.startswith(DROPPED):
            assert map_authors_key(key) is None, key
            continue
        ours = expected_key(key)
        assert ours is not None, f"no counterpart in our model for the authors' key {key}"
        assert map_authors_key(key) == ours, key
        tensor = loaded[ours]
        assert list(tensor.shape) == entry["shape"], key
        assert str(tensor.dtype) == f"torch.{entry['dtype']}", key
        assert torch.equal(tensor, torch.full_like(tensor, entry["value"])), (
            f"{key} -> {ours} holds {tensor.flatten()[:3].tolist()}, expected {entry['value']}")
        landed.add(ours)
    assert landed == set(loaded), f"model tensors never written: {sorted(set(loaded) - landed)}"
    assert len({e["value"] for e in fixture_tensors}) == len(fixture_tensors)  # values really distinct


@needs_fixture
def test_constructor_kwds_epoch_and_dropped_keys(fixture_tensors, r50_shapes):
    _, info = import_authors_checkpoint(FIXTURE, r50_shapes)
    assert info["format"] == "authors"
    assert info["norm_scale_coef"] == 1.5
    assert info["constructor_kwds"]["norm_scale_coef"] == 1.5
    assert info["constructor_kwds"]["num_dist_bins"] == 100
    assert info["epoch"] == 25 and info["net_type"] == "FCOTNet"
    assert info["reg_step_rule"] == "authors"
    assert info["dropped_keys"] == sorted(e["key"] for e in fixture_tensors if e["key"].startswith(DROPPED))
    assert len(info["dropped_keys"]) == 62
    assert "ltr.admin.model_constructor.NetConstructor" in info["stubbed_classes"]


@needs_fixture
def test_detect_format_and_overrides():
    assert detect_format(FIXTURE) == "authors"
    name, settings = model_overrides(FIXTURE)
    assert name == "fcot_r50"
    assert settings["norm_scale_coef"] == 1.5 and settings["reg"]["step_rule"] == "authors"
    assert settings["cls_filter_size"] == 4 and settings["reg_filter_size"] == 3 and settings["cls18_dim"] == 512
    assert settings["cls18"]["num_dist_bins"] == 100 and settings["cls72"]["bin_displacement"] == 0.1


@needs_fixture
def test_load_into_model_checks_norm_scale_coef():
    net = build_model("fcot_r50", imagenet_backbone=False)  # default norm_scale_coef 2.0
    with pytest.raises(CheckpointError, match="norm_scale_coef"):
        load_into_model(net, FIXTURE)
    name, overrides = model_overrides(FIXTURE)
    net = build_model(name, imagenet_backbone=False, **overrides)
    info = load_into_model(net, FIXTURE)
    assert info["format"] == "authors"
    assert torch.equal(net.reg.optimizer.filter_reg, torch.full_like(net.reg.optimizer.filter_reg,
                                                                      _value_of("regressor_72.filter_optimizer.filter_reg")))


def _value_of(key):
    return next(e["value"] for e in json.loads(FIXTURE_JSON.read_text())["tensors"] if e["key"] == key)


@needs_fixture
def test_rewritten_fixture_still_imports(tmp_path, r50_shapes):
    path = _save_legacy(_plain_copy_of_fixture(), tmp_path / "copy.pth.tar")
    _, info = import_authors_checkpoint(path, r50_shapes)
    assert info["norm_scale_coef"] == 1.5


@needs_fixture
def test_refuses_missing_tensor(tmp_path, r50_shapes):
    ckpt = _plain_copy_of_fixture()
    del ckpt["net"]["regressor_72.reg_head_36.3.conv_offset_mask.bias"]
    path = _save_legacy(ckpt, tmp_path / "missing.pth.tar")
    with pytest.raises(CheckpointError, match=r"missing.*reg\.head\.head_36\.dcn1\.conv_offset_mask\.bias"):
        import_authors_checkpoint(path, r50_shapes)


@needs_fixture
def test_refuses_unknown_extra_tensor(tmp_path, r50_shapes):
    ckpt = _plain_copy_of_fixture()
    ckpt["net"]["classifier_72.feature_extractor.9.weight"] = torch.zeros(3)
    path = _save_legacy(ckpt, tmp_path / "extra.pth.tar")
    with pytest.raises(CheckpointError, match=r"unknown.*classifier_72\.feature_extractor\.9\.weight"):
        import_authors_checkpoint(path, r50_shapes)


@needs_fixture
def test_refuses_mapped_key_the_model_lacks(tmp_path, r50_shapes):
    ckpt = _plain_copy_of_fixture()
    ckpt["net"]["feature_extractor.layer3.9.conv1.weight"] = torch.zeros(3)
    path = _save_legacy(ckpt, tmp_path / "extra2.pth.tar")
    with pytest.raises(CheckpointError, match=r"unexpected.*backbone\.layer3\.9\.conv1\.weight"):
        import_authors_checkpoint(path, r50_shapes)


@needs_fixture
def test_refuses_misshaped_tensor(tmp_path, r50_shapes):
    ckpt = _plain_copy_of_fixture()
    ckpt["net"]["pyramid_72.pyramid_conv.weight"] = torch.zeros(256, 256, 1, 1)
    path = _save_legacy(ckpt, tmp_path / "shape.pth.tar")
    with pytest.raises(CheckpointError, match=r"wrong shape.*decoder\.smooth_72\.weight has shape "
                                              r"\(256, 256, 1, 1\), the model expects \(256, 256, 3, 3\)"):
        import_authors_checkpoint(path, r50_shapes)


@needs_fixture
def test_refuses_truncated_file(tmp_path, r50_shapes):
    data = FIXTURE.read_bytes()
    for cut in (10, 5000, len(data) - 100):
        path = tmp_path / f"truncated_{cut}.pth.tar"
        path.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="cannot read"):
            import_authors_checkpoint(path, r50_shapes)
        with pytest.raises(CheckpointError, match="neither"):
            detect_format(path)


def test_refuses_random_bytes_and_missing_path(tmp_path):
    path = tmp_path / "random.pth"
    path.write_bytes(torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(0),
                                   dtype=torch.uint8).numpy().tobytes())
    with pytest.raises(CheckpointError, match="cannot read"):
        import_authors_checkpoint(path, {})
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="not found"):
        import_authors_checkpoint(tmp_path / "nope.pth", {})
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "nope.pth")
    with pytest.raises(CheckpointError, match="not found"):
        detect_format(tmp_path / "nope.pth")


def test_refuses_torch_file_that_is_not_fcot(tmp_path):
    plain = _save_legacy({"state_dict": {"w": torch.zeros(2)}}, tmp_path / "other.pth")
    with pytest.raises(CheckpointError, match="not an FCOT checkpoint"):
        import_authors_checkpoint(plain, {})
    dimp = _save_legacy({"net_type": "DiMPnet", "net": {"w": torch.zeros(2)}}, tmp_path / "dimp.pth")
    with pytest.raises(CheckpointError, match="DiMPnet"):
        import_authors_checkpoint(dimp, {})


class _Payload:
    """Pickles as a call to os.system: a hostile file must not run it."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_reading_never_executes_pickled_callables(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "hostile.pth.tar"
    with open(path, "wb") as f:
        torch.save({"net": {"w": torch.zeros(1)}, "evil": _Payload(marker)}, f,
                   pickle_module=pickle, _use_new_zipfile_serialization=False)
    with pytest.raises(CheckpointError):
        import_authors_checkpoint(path, {"x": (1,)})
    assert not marker.exists()
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    assert not marker.exists()


def test_native_round_trip_fcot_lite(tmp_path):
    torch.manual_seed(0)
    net = build_model("fcot_lite", imagenet_backbone=False)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p))
    path = tmp_path / "lite.pt"
    save_model(path, net, epoch=3)
    payload = torch.load(path, weights_only=True)  # plain types only
    assert payload["format"] == FORMAT
    assert detect_format(path) == "fcot_ros"
    state_dict, meta = load_checkpoint(path)
    assert meta["model"] == "fcot_lite" and meta["epoch"] == 3
    assert meta["config"]["reg"]["step_rule"] == "masked" and meta["config"]["reg"]["label_radius"] == 2
    assert meta["config"]["decoder_dim"] == 64
    assert model_overrides(path)[0] == "fcot_lite"
    other = build_model("fcot_lite", imagenet_backbone=False)
    info = load_into_model(other, path)
    assert info["format"] == "fcot_ros"
    reference = net.state_dict()
    for key, value in other.state_dict().items():
        assert torch.equal(value, reference[key]), key
    assert set(state_dict) == set(reference)


def test_native_refusals(tmp_path):
    net = build_model("fcot_lite", imagenet_backbone=False)
    path = tmp_path / "lite.pt"
    save_checkpoint(path, net.state_dict(), {"model": "fcot_lite"})
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError):
        load_checkpoint(corrupt)
    with pytest.raises(CheckpointError, match="neither"):
        detect_format(corrupt)
    # bytes flipped inside a tensor: torch.load would read the damaged weights without a word
    # (shown: this assertion fails without the CRC-32 check in load_checkpoint)
    flipped = bytearray(path.read_bytes())
    for i in range(len(flipped) // 2, len(flipped) // 2 + 64):
        flipped[i] ^= 0xFF
    damaged = tmp_path / "flipped.pt"
    damaged.write_bytes(bytes(flipped))
    with pytest.raises(CheckpointError, match="fails its CRC-32 check"):
        load_checkpoint(damaged)
    wrong = tmp_path / "wrong.pt"
    torch.save({"format": "something/1", "meta": {}, "state_dict": {}}, wrong)
    with pytest.raises(CheckpointError, match="not an fcot_ros checkpoint"):
        load_checkpoint(wrong)
    newer = tmp_path / "newer.pt"
    torch.save({"format": "fcot_ros/9", "meta": {"model": "x"}, "state_dict": {}}, newer)
    with pytest.raises(CheckpointError, match="fcot_ros/9"):
        load_checkpoint(newer)
    with pytest.raises(CheckpointError, match="plain types"):
        save_checkpoint(tmp_path / "bad.pt", net.state_dict(), {"model": "fcot_lite", "obj": object()})
    with pytest.raises(CheckpointError, match="'model'"):
        save_checkpoint(tmp_path / "bad.pt", net.state_dict(), {})
    r50 = build_model("fcot_r50", imagenet_backbone=False)
    with pytest.raises(CheckpointError, match="fcot_lite"):
        load_into_model(r50, path)
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    shapes.pop(next(iter(shapes)))
    with pytest.raises(CheckpointError, match="unexpected"):
        load_weights(path, shapes)


@needs_fixture
def test_native_loader_refuses_authors_file():
    with pytest.raises(CheckpointError, match="not an fcot_ros checkpoint"):
        load_checkpoint(FIXTURE)


@needs_fixture
def test_dimp50_backbone_and_classifier_import(tmp_path, fixture_tensors, r50_shapes):
    """A checkpoint in DiMP-50's layout (its classifier.* = FCOT's classifier_18.*, plus an IoU-Net)
    gives fcot_r50's backbone and cls18, every tensor where its key says."""
    from fcot_ros.checkpoints.dimp_import import import_dimp_checkpoint
    ckpt = _plain_copy_of_fixture()
    net = {}
    for key, value in ckpt["net"].items():
        if key.startswith("feature_extractor."):
            net[key] = value
        elif key.startswith("classifier_18."):
            net["classifier." + key[len("classifier_18."):]] = value
    net["bb_regressor.fc3.weight"] = torch.zeros(2, 2)
    path = _save_legacy({"net_type": "DiMPnet", "net": net, "constructor": ckpt["constructor"]}, tmp_path / "dimp.pth")
    taken, unused = import_dimp_checkpoint(path, r50_shapes)
    assert "bb_regressor.fc3.weight" in unused and any(k.startswith("feature_extractor.layer4") for k in unused)
    values = {e["key"]: e["value"] for e in fixture_tensors}
    for ours, tensor in taken.items():
        assert ours.startswith(("backbone.", "cls18.")), ours
    assert taken["cls18.head.conv.weight"].flatten()[0] == values["classifier_18.feature_extractor.0.weight"]
    assert taken["backbone.layer3.0.conv1.weight"].flatten()[0] == values["feature_extractor.layer3.0.conv1.weight"]
    assert {k for k in taken if k.startswith("cls18.")} == {k for k in r50_shapes if k.startswith("cls18.")}
    assert {k for k in taken if k.startswith("backbone.")} == {k for k in r50_shapes if k.startswith("backbone.")}
    fcot = _save_legacy({"net_type": "FCOTNet", "net": net}, tmp_path / "fcot.pth")
    with pytest.raises(CheckpointError, match="not DiMP"):
        import_dimp_checkpoint(fcot, r50_shapes)
