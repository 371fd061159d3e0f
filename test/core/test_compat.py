"""compat="authors" switches exactly the documented behaviours back to the authors' tracker (score
fusion by nearest resizing, the transposed integer online regression label, the box clamped to
[1, max(W, H)]), each checked against an independent statement of their rule; the default keeps
our fixes. Also: eq. 6 blends ReLU'd regression maps, and the authors' iou_select rule."""
import math

import numpy as np
import pytest
import torch
from conftest import iou

from fcot_ros import build_tracker
from fcot_ros.models.fcot_model import build_model
from fcot_ros.target_model.regression_labels import regression_targets
from fcot_ros.tracker.box_geometry import clip_box
from fcot_ros.tracker.fcot_tracker import blend_outputs
from fcot_ros.tracker.fusion import ScoreFusion
from fcot_ros.tracker.localization import PeakFlag, iou_select


def test_fusion_authors_is_nearest_resizing_and_ours_is_true_geometry():
    g = torch.Generator().manual_seed(0)
    s18, s72 = torch.rand(19, 19, generator=g), torch.rand(73, 73, generator=g)
    authors = ScoreFusion(19, 73, 72, 0.6, 0.4, mode="authors")(s18, s72)
    i18 = [math.floor(k * 19 / 72) for k in range(72)]        # nearest: source index floor(k * in / out)
    i72 = [math.floor(k * 73 / 72) for k in range(72)]
    expected = 0.6 * s18[i18][:, i18] + 0.4 * s72[i72][:, i72]
    torch.testing.assert_close(authors, expected, rtol=0, atol=0)
    # ours: a peak at 19-grid cell i (crop pixel 16 i) lands on 72-grid cell 4 i (crop pixel 16 i)
    peak = torch.zeros(19, 19)
    peak[5, 7] = 1.0
    ours = ScoreFusion(19, 73, 72, 1.0, 0.0)(peak, torch.zeros(73, 73))
    assert divmod(int(ours.argmax()), 72) == (20, 28) and float(ours.max()) == pytest.approx(1.0)
    theirs = ScoreFusion(19, 73, 72, 1.0, 0.0, mode="authors")(peak, torch.zeros(73, 73))
    rows = sorted({k for k in range(72) if i18[k] == 5})
    assert rows == [19, 20, 21, 22] and float(theirs[19].max()) == 1.0   # smeared over 4 cells, off centre


def _authors_label(box, stride, grid, radius):
    """The authors' rule, written out from reference section 1/8 for one sample: integer-truncated
    centre and edges, label at (row = x, col = y)."""
    x, y, w, h = box
    cx, cy = int((x + w / 2) / stride), int((y + h / 2) / stride)
    left, top, right, bottom = int(x / stride), int(y / stride), int((x + w) / stride), int((y + h) / stride)
    mask, target = np.zeros((grid, grid)), np.zeros((4, grid, grid))
    for dx in range(-radius, radius + 1):
        for dy in range(-radius, radius + 1):
            d = (cx - left + dx, right - cx - dx, cy - top + dy, bottom - cy - dy)
            row, col = cx + dx, cy + dy
            if min(d) <= 0 or not (0 <= row < grid and 0 <= col < grid):
                continue
            mask[row, col] = 1.0
            target[:, row, col] = d
    return mask, target


@pytest.mark.parametrize("radius", [0, 1])
def test_authors_regression_label_is_transposed_and_truncated(radius):
    boxes = torch.tensor([[[37.3, 101.9, 64.4, 40.2]], [[120.5, 30.0, 90.0, 150.7]]], dtype=torch.float64)
    mask, targets = regression_targets(boxes, 4, (72, 72), radius, convention="authors")
    for n in range(2):
        m_ref, t_ref = _authors_label(boxes[n, 0].tolist(), 4, 72, radius)
        np.testing.assert_array_equal(mask[n, 0, 0].numpy(), m_ref)
        np.testing.assert_array_equal((targets[n, 0] * mask[n, 0]).numpy(), t_ref)
    ours_mask, ours_targets = regression_targets(boxes, 4, (72, 72), radius)
    row, col = divmod(int(ours_mask[0, 0, 0].flatten().argmax()), 72)       # the first labelled cell
    assert (row + radius, col + radius) == (int((101.9 + 20.1) // 4), int((37.3 + 32.2) // 4))   # row = y, col = x
    assert float(ours_targets[0, 0, 0, row, col]) == pytest.approx(col - 37.3 / 4)      # float distances
    # windows cut around the label cells hold the same labels as the whole map
    wmask, wtargets = regression_targets(boxes, 4, (72, 72), radius, window=2 * radius + 3, convention="authors")
    assert float(wmask.sum()) == float(mask.sum())
    assert float((wtargets * wmask).sum()) == pytest.approx(float((targets * mask).sum()))


def test_authors_label_drops_an_offset_for_every_sample_at_once():
    """One sample whose distances vanish at the centre (a box narrower than a cell) empties the
    radius-0 label of the whole batch in the authors' rule; ours keeps the other samples."""
    boxes = torch.tensor([[[40.0, 40.0, 30.0, 30.0]], [[100.0, 100.0, 2.0, 30.0]]], dtype=torch.float64)
    mask, _ = regression_targets(boxes, 4, (72, 72), 0, convention="authors")
    assert float(mask.sum()) == 0.0
    ours, _ = regression_targets(boxes, 4, (72, 72), 0)
    assert float(ours.sum()) == 2.0


def test_box_clipping_modes():
    image = (300, 360)   # W, H
    box = (250.0, 10.0, 100.0, 80.0)
    assert clip_box(box, image, 4.0) == (250.0, 10.0, 50.0, 80.0)                # per axis, inside the image
    assert clip_box(box, image, 4.0, mode="authors") == (250.0, 10.0, 100.0, 80.0)  # [1, max(W, H)] = [1, 360]
    assert clip_box((-5.0, 0.5, 20.0, 20.0), image, 4.0, mode="authors") == (1.0, 1.0, 14.0, 19.5)


def test_eq6_blends_relu_maps():
    net = build_model("fcot_lite", imagenet_backbone=False)
    g = torch.Generator().manual_seed(4)
    feat = torch.randn(1, 64, 72, 72, generator=g)
    current, initial = (0.05 * torch.randn(1, 4, 64, 3, 3, generator=g) for _ in range(2))
    out = blend_outputs(net.reg, feat, current, initial, 0.6)
    raw = [torch.nn.functional.conv2d(feat, f[0], padding=1)[0] for f in (current, initial)]
    torch.testing.assert_close(out, 0.6 * raw[0].relu() + 0.4 * raw[1].relu(), rtol=1e-5, atol=1e-6)
    assert not torch.allclose(out, (0.6 * raw[0] + 0.4 * raw[1]).relu(), atol=1e-3)


def test_iou_select_rule():
    for flag in PeakFlag:
        assert iou_select(flag, 0.5, 0.05) is flag
    assert iou_select(PeakFlag.NORMAL, 0.01, 0.05) is PeakFlag.UNCERTAIN
    assert iou_select(PeakFlag.HARD_NEGATIVE, 0.01, 0.05) is PeakFlag.NOT_FOUND
    assert iou_select(PeakFlag.UNCERTAIN, 0.0, 0.05) is PeakFlag.NOT_FOUND


@pytest.mark.slow
def test_tracker_compat_changes_only_the_regression_label_fusion_and_clipping(load_sequence):
    seq = load_sequence("otb_Car4")
    ours = build_tracker(model="fcot_lite", backend="torch")
    theirs = build_tracker(model="fcot_lite", backend="torch", compat="authors")
    for t in (ours, theirs):
        t.initialize(seq.image(0), seq.groundtruth[0])
    # the classifiers are not part of it: identical first-frame filters
    assert torch.equal(ours.f18, theirs.f18) and torch.equal(ours.f72, theirs.f72)
    # the regression filter is fitted to the authors' label
    expected = theirs.model.reg.fit(theirs.memory.view("reg"), theirs.memory.stored_boxes(), solver="exact",
                                    grid_size=theirs._reg_grid, label="authors").filter
    torch.testing.assert_close(theirs.freg, expected, rtol=0, atol=0)
    assert not torch.allclose(ours.freg, theirs.freg)
    boxes = [(theirs.track(seq.image(i)).box, seq.groundtruth[i]) for i in range(1, 30)]
    assert np.mean([iou(b, gt) for b, gt in boxes]) > 0.5     # the authors' behaviour still tracks


def test_subcell_peak_is_continuous_across_an_argmax_flip():
    """Two neighbouring cells of nearly equal score: the refined position barely moves when the
    argmax flips from one to the other (the integer peak jumps a whole cell)."""
    from fcot_ros.tracker.localization import refine_peak
    base = np.zeros((9, 9), np.float32)
    base[4, 3:6] = (0.5, 1.0, 1.0)
    a, b = base.copy(), base.copy()
    a[4, 4] += 1e-6
    b[4, 5] += 1e-6
    pa = refine_peak(a, divmod(int(a.argmax()), 9))
    pb = refine_peak(b, divmod(int(b.argmax()), 9))
    assert divmod(int(a.argmax()), 9) != divmod(int(b.argmax()), 9)
    assert abs(pa[1] - pb[1]) < 0.05 and pa[0] == pb[0] == 4.0
    # an exact parabola is located exactly; at the border the cell itself is kept
    xs = np.arange(9)
    para = np.tile(-(xs - 5.3) ** 2, (9, 1)).astype(np.float64)
    assert refine_peak(para, (2, 5))[1] == pytest.approx(5.3)
    assert refine_peak(para, (0, 8)) == (0.0, 8.0)


def test_distances_read_bilinearly_at_subcell_positions():
    from fcot_ros.tracker.fcot_tracker import read_distances
    regmap = torch.arange(4 * 5 * 5, dtype=torch.float32).view(4, 5, 5)
    assert read_distances(regmap, 2, 3) == tuple(float(regmap[k, 2, 3]) for k in range(4))
    expected = [float(0.75 * (0.6 * regmap[k, 1, 2] + 0.4 * regmap[k, 1, 3]) +
                      0.25 * (0.6 * regmap[k, 2, 2] + 0.4 * regmap[k, 2, 3])) for k in range(4)]
    assert read_distances(regmap, 1.25, 2.4) == pytest.approx(expected)
