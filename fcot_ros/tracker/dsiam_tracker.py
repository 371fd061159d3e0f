"""The DSiam tracker (Guo et al., ICCV 2017) on ``dsiam_lite``: SiamFC's search with the two online
transforms V (target variation) and W (background suppression) learned from every confident frame.

Per frame t (image coordinates = pixels of the frame; crop coordinates = pixels of a crop, mapped by
fcot_ros.tracker.crop; feature cells = crop pixels / stride):

1. search crops Z_t of ``search_size`` px at ``num_scales`` scales around the last position;
2. features per level, W applied to them, V applied to the first template's features;
3. fused response per scale (DSiamModel.score); the scale with the best penalised peak wins; its
   response is upsampled (bicubic, x response_up), mixed with a cosine window and its peak gives
   the displacement; the size follows the scale with learning rate scale_lr (SiamFC);
4. when the confidence (sigmoid of the peak logit) reaches update_threshold: f(O_t) is read from
   the chosen scale's features at the new position (a template-size window) and V^l =
   RLR(f(O_1) -> f(O_t)); W^l = RLR(f(G_t) -> g . f(G_t)) with G_t = that scale's search features
   and g a Gaussian at the target (circular convolution commutes with shifts, so W learned with the
   target off-centre equals W of the re-centred region, up to the wrapped border).
"""
import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from fcot_ros.contract.protocol import Tracker
from fcot_ros.contract.result import LOST, TRACKING, UNCERTAIN, TrackResult
from fcot_ros.contract.validation import check_box, check_image
from fcot_ros.errors import ConfigurationError, NotInitializedError
from fcot_ros.tracker.box_geometry import clip_box
from fcot_ros.tracker.crop import extract_crop


def cosine_window(size: int) -> np.ndarray:
    """(size, size) outer product of Hann windows, summing to 1 (SiamFC's penalty on large moves)."""
    w = np.hanning(size)
    win = np.outer(w, w)
    return win / win.sum()


class DSiamTracker(Tracker):
    """Tracker contract on a DSiamModel (its transforms and heads) and a feature runtime
    (``extract(crops (N, S, S, 3) uint8) -> per-level torch features``)."""

    uses_torch_threads = True

    def __init__(self, model, runtime, params, model_name="dsiam_lite"):
        if params.update_threshold < 0 or params.lost_threshold > params.uncertain_threshold:
            raise ConfigurationError("dsiam thresholds: lost <= uncertain, update >= 0")
        self.model = model.eval()
        self.runtime = runtime
        self.params = params
        self.model_name = model_name
        self.backend_name = runtime.name
        self.lost_reason = None
        cfg = model.config
        self.search_size = cfg.search_size
        self.fine_stride = min(cfg.strides)
        r = cfg.response_size
        self.up_size = r * params.response_up if params.response_up > 1 else r
        self._window = cosine_window(self.up_size)
        self._initialized = False

    # --- contract -------------------------------------------------------------------------------
    @torch.inference_mode()
    def initialize(self, image, box):
        """Start tracking ``box`` = (x, y, w, h) in image pixels."""
        image = check_image(image)
        x, y, w, h = check_box(box, image.shape, min_size=2.0)
        self._initialized = False
        cfg = self.model.config
        self.image_size = (image.shape[1], image.shape[0])
        self.pos = (x + w / 2.0, y + h / 2.0)
        self.size = (w, h)
        self.scale = cfg.exemplar_scale(w, h)                                      # image px per crop px
        self.min_scale = self.scale * 0.2
        self.max_scale = self.scale * 5.0
        crop = extract_crop(image, self.pos, self.scale, self.search_size)
        self.first = self.model.template_window([f[0] for f in self.runtime.extract(crop[None])])  # (C, h_l, w_l)
        self.first_batched = [f[None] for f in self.first]
        self.v = None
        self.w = None
        self.frame_num = 1
        self._initialized = True

    @torch.inference_mode()
    def track(self, image) -> TrackResult:
        """The target in the next frame: box (x, y, w, h) image pixels, confidence in (0, 1), state, timings."""
        if not self._initialized:
            raise NotInitializedError("track() called before a successful initialize()")
        image = check_image(image)
        p, cfg = self.params, self.model.config
        self.frame_num += 1
        t0 = time.perf_counter()
        factors = p.scale_factors
        scales = [self.scale * f for f in factors]
        crops = np.stack([extract_crop(image, self.pos, s, self.search_size) for s in scales])
        t1 = time.perf_counter()
        feats = self.runtime.extract(crops)                                           # (K, C, H_l, W_l)
        t2 = time.perf_counter()
        fused = self.model.score(self.first_batched, list(feats), self.v, self.w)[:, 0]   # (K, R, R) logits
        peaks = fused.flatten(1).max(dim=1).values.cpu().numpy()
        penalties = np.array([1.0 if f == 1.0 else p.scale_penalty for f in factors])
        # SiamFC penalises by multiplication of (positive) scores; on logits, the penalty applies to
        # the sigmoid of the peak, which is positive and ranks scales alike
        k = int(np.argmax(penalties / (1.0 + np.exp(-peaks))))
        up = fused[k][None, None]
        if self.up_size != up.shape[-1]:
            up = F.interpolate(up, size=(self.up_size, self.up_size), mode="bicubic", align_corners=True)
        logits = up[0, 0].cpu().numpy().astype(np.float64)
        resp = logits - logits.min()
        resp = resp / max(resp.sum(), 1e-12)
        resp = (1.0 - p.window_influence) * resp + p.window_influence * self._window
        row, col = np.unravel_index(int(np.argmax(resp)), resp.shape)
        confidence = float(1.0 / (1.0 + math.exp(-float(logits[row, col]))))
        # response cell -> crop pixels: the upsampled map spans the same cells as the R x R one
        r = cfg.response_size
        step = (r - 1) / (self.up_size - 1) if self.up_size > 1 else 1.0
        dx_crop = (col * step - (r - 1) / 2.0) * self.fine_stride
        dy_crop = (row * step - (r - 1) / 2.0) * self.fine_stride
        scale = scales[k]
        self.pos = (self.pos[0] + dx_crop * scale, self.pos[1] + dy_crop * scale)
        rate = p.scale_lr
        new_scale = self.scale * ((1.0 - rate) + rate * factors[k])
        new_scale = min(max(new_scale, self.min_scale), self.max_scale)
        ratio = new_scale / self.scale
        self.scale = new_scale
        self.size = (self.size[0] * ratio, self.size[1] * ratio)
        self.pos = (min(max(self.pos[0], 0.0), float(self.image_size[0])),
                    min(max(self.pos[1], 0.0), float(self.image_size[1])))
        t3 = time.perf_counter()
        if confidence >= p.update_threshold and (p.use_v or p.use_w):
            self._learn([f[k] for f in feats], (dx_crop, dy_crop), scale)
        t4 = time.perf_counter()
        state = TRACKING if confidence >= p.uncertain_threshold else (
            UNCERTAIN if confidence >= p.lost_threshold else LOST)
        box = (self.pos[0] - self.size[0] / 2.0, self.pos[1] - self.size[1] / 2.0, self.size[0], self.size[1])
        box = clip_box(box, self.image_size, p.min_size)
        timings = {"crop": (t1 - t0) * 1e3, "network": (t2 - t1) * 1e3, "decode": (t3 - t2) * 1e3,
                   "optimizers": (t4 - t3) * 1e3}
        return TrackResult(box=tuple(float(v) for v in box), score=confidence, state=state, timings=timings)

    # --- online transforms ------------------------------------------------------------------------
    def _learn(self, feats, shift_crop, scale):
        """V and W from the chosen scale's search features ``feats`` (C, H_l, W_l) per level, with the
        target displaced by ``shift_crop`` (dx, dy) crop pixels from the crop centre."""
        p = self.params
        size_crop = (self.size[0] / scale, self.size[1] / scale)
        v, w = self.model.learn_transforms(feats, self.first, shift_crop, size_crop, p.use_v, p.use_w)
        if p.use_v:
            self.v = v
        if p.use_w:
            self.w = w
