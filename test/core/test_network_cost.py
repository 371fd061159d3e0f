"""The network cost tool: node and module names map to the same keys, and the FLOPs per module add
up to the whole network and match a hand count for plain convolutions."""
import pytest

from fcot_ros.assembly import load_model, model_spec, resolve_weights
from fcot_ros.assembly.registry import FULL_WEIGHTS, WEIGHTS_DIR
from fcot_ros.tools.network_cost import flops_per_module, module_key


def test_module_keys_of_onnx_nodes_and_modules_agree():
    top = ("normalize", "backbone", "decoder", "cls72_head", "reg_features")
    assert module_key("/cls72_head/body/conv1/Conv", top) == module_key("cls72_head.body.conv1", top) == \
        "cls72_head.body"
    assert module_key("/_blocks.3/_depthwise_conv/Conv", top) == "backbone"
    assert module_key("/decoder/Resize", top) == "decoder"
    assert module_key("/decoder/smooth_72/Conv", top) == "decoder.smooth_72"
    assert module_key("/Mul_3", top) == "(other)"


def test_flops_add_up_and_match_a_hand_count():
    net = load_model("fcot_lite", str(WEIGHTS_DIR / FULL_WEIGHTS))
    flops = flops_per_module(net.features, 288)
    assert sum(flops.values()) == pytest.approx(3.962e9, rel=2e-3)      # the full network (issue 14)
    # the shipped, separable network (rank 1): 1.375 GFLOP at 288, 0.832 at the default preset's 224
    shipped = load_model("fcot_lite", resolve_weights(model_spec("fcot_lite"), None, "default"), crop_size=224)
    assert shipped.config.separable_rank == 1
    assert sum(flops_per_module(shipped.features, 224).values()) == pytest.approx(0.832e9, rel=2e-3)
    for name, side in (("lateral_72", 72), ("lateral_36", 36), ("smooth_72", 72)):
        conv = getattr(net.features.decoder, name)
        conv = conv if hasattr(conv, "weight") else next(m for m in conv.modules() if hasattr(m, "weight"))
        cout, cin, kh, kw = conv.weight.shape
        assert flops[f"decoder.{name}"] == pytest.approx(2 * cout * cin * kh * kw * side * side, rel=1e-6), name
