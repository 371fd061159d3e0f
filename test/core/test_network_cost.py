"""The network cost tool: node and module names map to the same keys, and the FLOPs per module add
up to the whole network and match a hand count for plain convolutions."""
import pytest

from fcot_ros.assembly import load_model, model_spec, resolve_weights
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
    net = load_model("fcot_lite", resolve_weights(model_spec("fcot_lite"), None, "default"))
    flops = flops_per_module(net.features, 288)
    assert sum(flops.values()) == pytest.approx(3.962e9, rel=2e-3)      # the whole network (issue 14)
    for name, side in (("lateral_72", 72), ("lateral_36", 36), ("smooth_72", 72)):
        conv = getattr(net.features.decoder, name)
        conv = conv if hasattr(conv, "weight") else next(m for m in conv.modules() if hasattr(m, "weight"))
        cout, cin, kh, kw = conv.weight.shape
        assert flops[f"decoder.{name}"] == pytest.approx(2 * cout * cin * kh * kw * side * side, rel=1e-6), name
