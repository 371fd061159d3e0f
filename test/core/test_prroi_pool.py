"""Tests for fcot_ros.ops.prroi_pool against brute-force numerical integration."""
import io

import numpy as np
import torch

from fcot_ros.ops.prroi_pool import PrRoIPool2D, prroi_pool2d

NQ = 400  # midpoint-rule samples per bin and axis


def _bilinear_zero(img, y, x):
    """Vectorised bilinear interpolant of a (H, W) map at arrays y, x (zeros outside)."""
    h, w = img.shape
    y0 = np.floor(y).astype(np.int64)
    x0 = np.floor(x).astype(np.int64)
    fy, fx = y - y0, x - x0
    val = np.zeros(np.broadcast(y, x).shape)
    for dy, wy in ((0, 1.0 - fy), (1, fy)):
        for dx, wx in ((0, 1.0 - fx), (1, fx)):
            yy, xx = y0 + dy, x0 + dx
            ok = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
            val += np.where(ok, wy * wx * img[np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)], 0.0)
    return val


def _brute_force(features, rois, ph, pw, scale):
    """Mean of the bilinear interpolant over each bin by a 2-D midpoint rule."""
    k = rois.shape[0]
    c = features.shape[1]
    out = np.zeros((k, c, ph, pw))
    u = (np.arange(NQ) + 0.5) / NQ
    for r in range(k):
        b = int(rois[r, 0])
        x1, y1, x2, y2 = (rois[r, 1:] * scale).tolist()
        bh, bw = (y2 - y1) / ph, (x2 - x1) / pw
        if bh <= 0 or bw <= 0:
            continue
        for i in range(ph):
            ys = y1 + (i + u) * bh
            for j in range(pw):
                xs = x1 + (j + u) * bw
                yy, xx = np.meshgrid(ys, xs, indexing="ij")
                for ch in range(c):
                    out[r, ch, i, j] = _bilinear_zero(features[b, ch], yy, xx).mean()
    return out


def _rois():
    # [batch, x1, y1, x2, y2] in image pixels; scale 0.5 -> feature map 7 x 9
    return torch.tensor([
        [0, 2.0, 3.0, 13.0, 10.0],     # inside
        [1, -5.0, -3.0, 6.0, 7.0],     # partly outside top-left
        [0, 10.0, 8.0, 22.0, 19.0],    # partly outside bottom-right
        [1, 7.3, 5.1, 7.9, 5.6],       # sub-cell
        [0, -20.0, -20.0, -9.0, -8.0],  # beyond the 1-cell fade band -> 0
        [1, 4.4, 2.2, 16.6, 11.7],     # fractional
    ], dtype=torch.float64)


def test_matches_brute_force_integral():
    g = torch.Generator().manual_seed(0)
    feats = torch.randn(2, 3, 7, 9, generator=g, dtype=torch.float64)
    rois = _rois()
    got = prroi_pool2d(feats, rois, 2, 3, 0.5)
    assert got.shape == (6, 3, 2, 3)
    ref = _brute_force(feats.numpy(), rois.numpy(), 2, 3, 0.5)
    # midpoint-rule error only (piecewise bilinear integrand, NQ=400)
    np.testing.assert_allclose(got.numpy(), ref, atol=1e-5, rtol=0)
    assert torch.all(got[4] == 0)


def test_random_rois_float32():
    g = torch.Generator().manual_seed(1)
    feats = torch.randn(2, 2, 6, 8, generator=g)
    k = 5
    xy1 = torch.rand(k, 2, generator=g) * 40 - 8       # may start outside
    wh = torch.rand(k, 2, generator=g) * 30 + 0.3
    rois = torch.cat([torch.randint(0, 2, (k, 1), generator=g).float(), xy1, xy1 + wh], dim=1)
    got = prroi_pool2d(feats, rois, 3, 3, 0.25)
    ref = _brute_force(feats.double().numpy(), rois.double().numpy(), 3, 3, 0.25)
    np.testing.assert_allclose(got.numpy(), ref, atol=2e-5, rtol=0)


def test_zero_area_and_degenerate_rois():
    feats = torch.randn(1, 2, 5, 5)
    rois = torch.tensor([[0, 3.0, 3.0, 3.0, 8.0],     # zero width
                         [0, 3.0, 3.0, 8.0, 3.0],     # zero height
                         [0, 6.0, 6.0, 2.0, 2.0]])    # inverted -> clamped to zero area
    out = prroi_pool2d(feats, rois, 2, 2, 1.0)
    assert out.shape == (3, 2, 2, 2)
    assert torch.all(out == 0)


def test_constant_map_and_scale():
    feats = torch.full((1, 1, 10, 10), 3.0, dtype=torch.float64)
    # interpolant is exactly 3 on [0, 9]^2; roi 4..28 px at scale 1/4 -> [1, 7] cells
    out = prroi_pool2d(feats, torch.tensor([[0, 4.0, 4.0, 28.0, 28.0]], dtype=torch.float64),
                       4, 4, 0.25)
    torch.testing.assert_close(out, torch.full_like(out, 3.0))
    # roi [-1, 1] x [0, 2]: y fully inside; along x the interpolant fades to 0 on [-1, 0]
    out = prroi_pool2d(feats, torch.tensor([[0, -1.0, 0.0, 1.0, 2.0]], dtype=torch.float64),
                       1, 1, 1.0)
    # integral over x in [-1, 0] of (x+1) = 1/2, over [0, 1] of 1 = 1 -> mean 3/4 * 3
    torch.testing.assert_close(out.view(()), torch.tensor(2.25, dtype=torch.float64))


def test_gradcheck_features_and_rois():
    g = torch.Generator().manual_seed(2)
    feats = torch.randn(2, 2, 5, 6, generator=g, dtype=torch.float64, requires_grad=True)
    coords = torch.tensor([[0.7, 1.3, 9.1, 8.2],
                           [-2.2, 3.4, 5.6, 11.9],
                           [4.1, 2.3, 4.9, 3.05]], dtype=torch.float64, requires_grad=True)
    bidx = torch.tensor([[0.0], [1.0], [1.0]], dtype=torch.float64)

    def fn(f, xy):
        return prroi_pool2d(f, torch.cat([bidx, xy], dim=1), 2, 2, 0.5)

    assert torch.autograd.gradcheck(fn, (feats, coords), eps=1e-6, atol=1e-6, rtol=1e-4)


def test_module_wrapper():
    m = PrRoIPool2D(4, 4, 1 / 16)
    feats = torch.randn(1, 3, 18, 18)
    rois = torch.tensor([[0, 40.0, 50.0, 200.0, 180.0]])
    torch.testing.assert_close(m(feats, rois), prroi_pool2d(feats, rois, 4, 4, 1 / 16))
    assert "spatial_scale=0.0625" in repr(m)


def test_onnx_export_matches_torch():
    import onnxruntime as ort  # a requirement (requirements.txt): missing = a broken install, a failure
    g = torch.Generator().manual_seed(3)
    m = PrRoIPool2D(3, 3, 0.125).eval()
    feats = torch.randn(2, 4, 12, 14, generator=g)
    rois = torch.tensor([[0, 8.0, 12.0, 70.0, 60.0],
                         [1, -10.0, 30.0, 40.0, 120.0],
                         [1, 20.0, 20.0, 20.0, 50.0]])
    buf = io.BytesIO()
    torch.onnx.export(m, (feats, rois), buf, opset_version=17,
                      input_names=["features", "rois"], output_names=["pooled"],
                      dynamic_axes={"rois": {0: "k"}, "pooled": {0: "k"}}, dynamo=False)
    sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    # run with a different number of rois than at export time
    rois2 = torch.cat([rois, torch.tensor([[0, 33.3, 5.5, 101.0, 90.0]])])
    got = sess.run(None, {"features": feats.numpy(), "rois": rois2.numpy()})[0]
    with torch.no_grad():
        ref = m(feats, rois2).numpy()
    # float32 end to end; stated tolerance 1e-5 abs
    np.testing.assert_allclose(got, ref, atol=1e-5, rtol=1e-5)
    assert np.all(got[2] == 0)
