"""Sampling and processing put the target where its box says: crops of a real frame with a painted
target, Gaussian labels and regression targets checked against independent loop computations, and
DiMP's causal frame order."""
import math

import numpy as np
import pytest
import torch

from fcot_ros.target_model.regression_labels import regression_targets
from training.data.processing import Jitter, jitter_box, process_sample, search_crop
from training.data.sampler import SampleSampler, WeightedSource
from training.data.sources import load_source
from training.losses import gaussian_labels, iou_loss, lb_hinge, regression_loss


def _painted_frame(shared_data, box):
    """A real frame with the box painted pure green (the crop must show it where the box lands)."""
    seq = load_source("folder", shared_data / "train")[0]
    image = seq.frame(0).copy()
    x, y, w, h = (int(round(v)) for v in box)
    image[..., :] = np.minimum(image, 200)
    image[y:y + h, x:x + w] = (0, 255, 0)
    return image


def test_crop_shows_the_target_where_the_crop_box_says(shared_data):
    box = (101.0, 61.0, 60.0, 40.0)
    image = _painted_frame(shared_data, box)
    rng = np.random.default_rng(3)
    for _ in range(5):
        jittered = jitter_box(box, Jitter(3.0, 0.25), rng)
        crop, crop_box = search_crop(image, box, jittered, 5.0, 288)
        green = (crop[..., 1] > 230) & (crop[..., 0] < 40) & (crop[..., 2] < 40)
        ys, xs = np.nonzero(green)
        found = (xs.min(), ys.min(), xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min())
        # independent mapping: crop side sqrt(w'h') * 5 around the jittered centre, S = 288
        side = math.sqrt(jittered[2] * jittered[3]) * 5.0
        scale = side / 288
        cx, cy = jittered[0] + jittered[2] / 2, jittered[1] + jittered[3] / 2
        expected = ((box[0] - cx) / scale + 143.5, (box[1] - cy) / scale + 143.5, box[2] / scale, box[3] / scale)
        np.testing.assert_allclose(crop_box, expected, atol=1e-3)
        np.testing.assert_allclose(found, expected, atol=1.5 + 1 / scale)


def test_process_sample_gray_and_brightness(shared_data):
    box = np.array([[101.0, 61.0, 60.0, 40.0]] * 3)
    image = _painted_frame(shared_data, box[0])
    common = dict(crop_size=96, search_area_factor=4.0, train_jitter=Jitter(0, 0), test_jitter=Jitter(0, 0))
    gray = process_sample([image] * 3, box, [image] * 3, box, np.random.default_rng(0), grayscale_probability=1.0,
                          brightness_jitter=0.0, **common)
    assert gray["train_images"].shape == (3, 96, 96, 3)
    assert np.array_equal(gray["test_images"][..., 0], gray["test_images"][..., 2])
    plain = process_sample([image] * 3, box, [image] * 3, box, np.random.default_rng(0), grayscale_probability=0.0,
                           brightness_jitter=0.0, **common)
    bright = process_sample([image] * 3, box, [image] * 3, box, np.random.default_rng(0), grayscale_probability=0.0,
                            brightness_jitter=0.2, **common)
    ratio = bright["train_images"].astype(float).mean() / plain["train_images"].astype(float).mean()
    assert 0.78 < ratio < 1.22 and ratio != 1.0
    scale = math.sqrt(60 * 40) * 4.0 / 96                 # no jitter: the crop is centred on the box
    np.testing.assert_allclose(plain["train_boxes"][0], [47.5 - 30 / scale, 47.5 - 20 / scale, 60 / scale, 40 / scale],
                               atol=1e-4)


def test_gaussian_labels_peak_at_the_box_centre():
    boxes = torch.tensor([[[100.0, 116.0, 56.0, 24.0], [30.5, 200.25, 40.0, 60.0]]])
    for stride, size, sigma in ((16, 19, 0.9), (4, 73, 1.8)):
        labels = gaussian_labels(boxes, stride, size, sigma)
        for s in range(2):
            x, y, w, h = boxes[0, s].tolist()
            cx, cy = (x + w / 2) / stride, (y + h / 2) / stride
            ref = np.array([[math.exp(-((j - cx) ** 2 + (i - cy) ** 2) / (2 * sigma ** 2)) for j in range(size)]
                            for i in range(size)])
            np.testing.assert_allclose(labels[0, s].numpy(), ref, rtol=1e-5, atol=1e-7)
        # an integer centre is the maximum
        assert divmod(int(labels[0, 0].argmax()), size) == (int((116 + 12) / stride), int((100 + 28) / stride))


def test_regression_targets_and_iou_loss():
    boxes = torch.tensor([[[100.0, 116.0, 56.0, 24.0]], [[30.0, 40.0, 80.0, 100.0]]])
    mask, targets = regression_targets(boxes, 4, (72, 72), radius=2, window=5)
    for n in range(2):
        x, y, w, h = (v / 4 for v in boxes[n, 0].tolist())
        row0, col0 = int((y + h / 2)) - 2, int((x + w / 2)) - 2
        for i in range(5):
            for j in range(5):
                r, c = row0 + i, col0 + j
                assert targets[n, 0, :, i, j].tolist() == pytest.approx([c - x, x + w - c, r - y, y + h - r])
    assert float(mask.sum()) == 50
    # a map that predicts the true distances everywhere has zero loss; a wrong one a positive loss
    grid = torch.arange(72.0)
    true = torch.zeros(2, 1, 4, 72, 72)
    for n in range(2):
        x, y, w, h = (v / 4 for v in boxes[n, 0].tolist())
        true[n, 0] = torch.stack([grid.view(1, 72) - x + 0 * grid.view(72, 1),
                                  x + w - grid.view(1, 72) + 0 * grid.view(72, 1),
                                  grid.view(72, 1) - y + 0 * grid.view(1, 72),
                                  y + h - grid.view(72, 1) + 0 * grid.view(1, 72)])
    assert float(regression_loss(true.clamp(min=0), boxes)) == pytest.approx(0.0, abs=1e-6)
    assert float(regression_loss(true.clamp(min=0) * 1.5, boxes)) > 0.1
    # IoU of (l, r, t, b) = (1, 1, 1, 1) vs (2, 2, 2, 2): I = 4, U = 16 -> -log(5 / 17)
    one, two = torch.ones(1, 1, 4, 1, 1), 2 * torch.ones(1, 1, 4, 1, 1)
    assert float(iou_loss(one, two, torch.ones(1, 1, 1, 1, 1))) == pytest.approx(-math.log(5 / 17))


def test_lb_hinge():
    labels = torch.tensor([[[[0.0, 1.0, 0.5, 0.01]]]])
    scores = torch.tensor([[[[-2.0, 1.0, 0.0, 0.3]]]])
    # negatives (label < 0.05) pass through a ReLU against 0; positives regress to the label
    assert float(lb_hinge(scores, labels)) == pytest.approx((0 + 0 + 0.25 + 0.09) / 4)


def test_causal_sampling_and_stills(shared_data):
    sequences = load_source("folder", shared_data / "train")
    sampler = SampleSampler([WeightedSource("v", sequences, 1.0)], 3, 3, max_gap=30)
    for seed in range(40):
        spec = sampler.draw(np.random.default_rng(seed))
        base = spec.train_ids[0]
        assert all(i <= base for i in spec.train_ids) and all(i > base for i in spec.test_ids)
        assert max(spec.test_ids) - min(spec.train_ids) <= 30 + 30 + 5 * 20
        assert all(spec.sequence.visible[i] for i in spec.train_ids + spec.test_ids)
    again = sampler.draw(np.random.default_rng(7))
    first = sampler.draw(np.random.default_rng(7))
    assert (again.sequence.name, again.train_ids, again.test_ids) == (first.sequence.name, first.train_ids,
                                                                      first.test_ids)
    stills = SampleSampler([WeightedSource("s", sequences, 1.0, static_images=True)], 3, 3)
    spec = stills.draw(np.random.default_rng(1))
    assert len(set(spec.train_ids + spec.test_ids)) == 1
