"""Tests for fcot_ros.ops.deform_conv against an independent naive implementation."""
import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from fcot_ros.ops.deform_conv import ModulatedDeformConv2d, modulated_deform_conv2d


def _bilinear_zero(img, y, x):
    """Bilinear value of a (H, W) numpy map at (y, x); corners outside count 0."""
    h, w = img.shape
    y0, x0 = int(np.floor(y)), int(np.floor(x))
    fy, fx = y - y0, x - x0
    val = 0.0
    for yy, wy in ((y0, 1.0 - fy), (y0 + 1, fy)):
        for xx, wx in ((x0, 1.0 - fx), (x0 + 1, fx)):
            if 0 <= yy < h and 0 <= xx < w:
                val += wy * wx * img[yy, xx]
    return val


def _naive_dcn(x, offset, mask, weight, bias, padding, stride, dilation):
    """Per-output-pixel, per-tap loop (float64 numpy)."""
    n, cin, h, w = x.shape
    cout, _, kh, kw = weight.shape
    hout = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    wout = (w + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    out = np.zeros((n, cout, hout, wout))
    for b in range(n):
        for ho in range(hout):
            for wo in range(wout):
                cols = np.zeros((cin, kh, kw))
                for i in range(kh):
                    for j in range(kw):
                        k = i * kw + j
                        y = ho * stride - padding + i * dilation + offset[b, 2 * k, ho, wo]
                        xx = wo * stride - padding + j * dilation + offset[b, 2 * k + 1, ho, wo]
                        for c in range(cin):
                            cols[c, i, j] = _bilinear_zero(x[b, c], y, xx) * mask[b, k, ho, wo]
                out[b, :, ho, wo] = np.tensordot(weight, cols, axes=([1, 2, 3], [0, 1, 2]))
                if bias is not None:
                    out[b, :, ho, wo] += bias
    return out


def _random_case(seed, n, cin, cout, h, w, k, padding, stride, dilation, scale=2.5,
                 dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    hout = (h + 2 * padding - dilation * (k - 1) - 1) // stride + 1
    wout = (w + 2 * padding - dilation * (k - 1) - 1) // stride + 1
    x = torch.randn(n, cin, h, w, generator=g, dtype=dtype)
    # offsets up to +-scale px: many samples land outside the map or in the
    # fading border band, and almost all are fractional
    offset = (torch.rand(n, 2 * k * k, hout, wout, generator=g, dtype=dtype) * 2 - 1) * scale
    mask = torch.rand(n, k * k, hout, wout, generator=g, dtype=dtype)
    weight = torch.randn(cout, cin, k, k, generator=g, dtype=dtype)
    bias = torch.randn(cout, generator=g, dtype=dtype)
    return x, offset, mask, weight, bias


@pytest.mark.parametrize("h,w,k,padding,stride,dilation", [
    (5, 6, 3, 1, 1, 1),
    (6, 5, 3, 0, 1, 1),
    (7, 7, 3, 1, 2, 1),
    (7, 6, 3, 2, 1, 2),
    (4, 5, 1, 0, 1, 1),
    (1, 5, 3, 1, 1, 1),
    (4, 1, 3, 1, 1, 1),
])
def test_matches_naive_loop(h, w, k, padding, stride, dilation):
    x, offset, mask, weight, bias = _random_case(0, 2, 3, 4, h, w, k, padding, stride, dilation)
    got = modulated_deform_conv2d(x, offset, mask, weight, bias, padding=padding, stride=stride,
                                  dilation=dilation)
    ref = _naive_dcn(*(t.double().numpy() for t in (x, offset, mask, weight, bias)),
                     padding, stride, dilation)
    assert got.shape == ref.shape
    np.testing.assert_allclose(got.numpy(), ref, atol=2e-5, rtol=1e-5)


def test_integer_offsets_and_far_outside():
    # Integer shifts hit pixel centres exactly; shifts > map size give exactly 0.
    x, _, _, weight, _ = _random_case(1, 1, 2, 3, 5, 5, 3, 1, 1, 1)
    offset = torch.randint(-2, 3, (1, 18, 5, 5)).float()
    offset[:, :, 0, 0] = 100.0
    offset[:, :, 1, 1] = -100.0
    mask = torch.ones(1, 9, 5, 5)
    got = modulated_deform_conv2d(x, offset, mask, weight)
    ref = _naive_dcn(x.double().numpy(), offset.double().numpy(), mask.double().numpy(),
                     weight.double().numpy(), None, 1, 1, 1)
    np.testing.assert_allclose(got.numpy(), ref, atol=2e-5, rtol=1e-5)
    assert torch.all(got[:, :, 0, 0] == 0) and torch.all(got[:, :, 1, 1] == 0)


@pytest.mark.parametrize("padding,stride,dilation", [(1, 1, 1), (0, 2, 1), (2, 1, 2)])
def test_zero_offset_unit_mask_is_conv2d(padding, stride, dilation):
    g = torch.Generator().manual_seed(2)
    x = torch.randn(2, 8, 11, 9, generator=g)
    weight = torch.randn(5, 8, 3, 3, generator=g)
    bias = torch.randn(5, generator=g)
    ref = F.conv2d(x, weight, bias, stride=stride, padding=padding, dilation=dilation)
    hout, wout = ref.shape[-2:]
    offset = torch.zeros(2, 18, hout, wout)
    mask = torch.ones(2, 9, hout, wout)
    got = modulated_deform_conv2d(x, offset, mask, weight, bias, padding=padding, stride=stride,
                                  dilation=dilation)
    torch.testing.assert_close(got, ref, atol=1e-5, rtol=1e-5)


def test_gradcheck_all_inputs():
    x, offset, mask, weight, bias = _random_case(3, 1, 2, 2, 4, 4, 3, 1, 1, 1, scale=1.7,
                                                 dtype=torch.float64)
    inputs = tuple(t.clone().requires_grad_(True) for t in (x, offset, mask, weight, bias))

    def fn(a, o, m, wt, b):
        return modulated_deform_conv2d(a, o, m, wt, b, padding=1)

    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-4)


def test_gradcheck_strided_dilated():
    x, offset, mask, weight, bias = _random_case(4, 1, 2, 2, 5, 5, 3, 2, 2, 2, scale=1.3,
                                                 dtype=torch.float64)
    inputs = tuple(t.clone().requires_grad_(True) for t in (x, offset, mask, weight))

    def fn(a, o, m, wt):
        return modulated_deform_conv2d(a, o, m, wt, None, padding=2, stride=2, dilation=2)

    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-4)


def test_module_parameters_and_init():
    torch.manual_seed(0)
    m = ModulatedDeformConv2d(4, 6, kernel_size=3, stride=1, padding=1)
    keys = set(m.state_dict().keys())
    assert keys == {"weight", "bias", "conv_offset_mask.weight", "conv_offset_mask.bias"}
    assert tuple(m.conv_offset_mask.weight.shape) == (27, 4, 3, 3)
    assert torch.all(m.conv_offset_mask.weight == 0) and torch.all(m.bias == 0)
    x = torch.randn(2, 4, 9, 10)
    # untrained: zero offsets, mask sigmoid(0) = 0.5
    ref = 0.5 * F.conv2d(x, m.weight, None, padding=1) + m.bias.view(1, -1, 1, 1)
    torch.testing.assert_close(m(x), ref, atol=1e-5, rtol=1e-5)
    assert ModulatedDeformConv2d(4, 6, bias=False).bias is None


def test_module_forward_uses_chunked_offsets():
    torch.manual_seed(1)
    m = ModulatedDeformConv2d(3, 4)
    torch.nn.init.normal_(m.conv_offset_mask.weight, std=0.3)
    torch.nn.init.normal_(m.conv_offset_mask.bias, std=0.3)
    x = torch.randn(1, 3, 6, 7)
    out = m.conv_offset_mask(x)
    offset, mask = out[:, :18], torch.sigmoid(out[:, 18:])
    ref = _naive_dcn(x.double().numpy(), offset.detach().double().numpy(),
                     mask.detach().double().numpy(), m.weight.detach().double().numpy(),
                     m.bias.detach().double().numpy(), 1, 1, 1)
    np.testing.assert_allclose(m(x).detach().numpy(), ref, atol=2e-5, rtol=1e-5)


def test_onnx_export_matches_torch():
    import onnxruntime as ort  # a requirement (requirements.txt): missing = a broken install, a failure
    torch.manual_seed(2)
    m = ModulatedDeformConv2d(4, 5).eval()
    torch.nn.init.normal_(m.conv_offset_mask.weight, std=0.3)
    torch.nn.init.normal_(m.conv_offset_mask.bias, std=0.3)
    torch.nn.init.normal_(m.bias)
    x = torch.randn(1, 4, 10, 12)
    buf = io.BytesIO()
    torch.onnx.export(m, (x,), buf, opset_version=17, input_names=["x"], output_names=["y"],
                      dynamo=False)
    sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"x": x.numpy()})[0]
    with torch.no_grad():
        ref = m(x).numpy()
    # float32 end to end; stated tolerance 1e-4 abs
    np.testing.assert_allclose(got, ref, atol=1e-4, rtol=1e-4)


def test_shape_errors():
    x = torch.randn(1, 2, 5, 5)
    w = torch.randn(3, 2, 3, 3)
    with pytest.raises(ValueError):
        modulated_deform_conv2d(x, torch.zeros(1, 18, 4, 5), torch.ones(1, 9, 5, 5), w)
    with pytest.raises(ValueError):
        modulated_deform_conv2d(x, torch.zeros(1, 18, 5, 5), torch.ones(1, 8, 5, 5), w)
    with pytest.raises(ValueError):
        modulated_deform_conv2d(x, torch.zeros(1, 18, 5, 5), torch.ones(1, 9, 5, 5),
                                torch.randn(3, 4, 3, 3))


def test_constant_sampling_fast_path_equals_general_path():
    """Zero offset branch (an untrained layer): the conv fast path gives the DCN's exact output."""
    torch.manual_seed(3)
    layer = ModulatedDeformConv2d(6, 5, 3, padding=1).double().eval()
    with torch.no_grad():
        layer.conv_offset_mask.bias[18:] = torch.randn(9, dtype=torch.float64)  # per-tap masks
    x = torch.randn(2, 6, 9, 11, dtype=torch.float64)
    assert layer.constant_sampling()
    fast = layer(x)
    o = layer.conv_offset_mask(x)
    general = modulated_deform_conv2d(x, torch.cat(torch.chunk(o, 3, 1)[:2], 1), torch.sigmoid(o[:, 18:]),
                                      layer.weight, layer.bias, padding=1)
    torch.testing.assert_close(fast, general, rtol=1e-12, atol=1e-12)
    with torch.no_grad():  # any offset weight switches to the general path
        layer.conv_offset_mask.weight[0, 0, 1, 1] = 0.5
    assert not layer.constant_sampling()
    o = layer.conv_offset_mask(x)
    general = modulated_deform_conv2d(x, torch.cat(torch.chunk(o, 3, 1)[:2], 1), torch.sigmoid(o[:, 18:]),
                                      layer.weight, layer.bias, padding=1)
    torch.testing.assert_close(layer(x), general, rtol=1e-12, atol=1e-12)
