"""FCOTTracker: first-frame augmentation, sample memory, update schedule, score fusion,
localisation, anchor-free box decoding and a LOST state the caller can see.

Geometry: the search crop is S x S (S = 288) pixels; crop pixel p maps to image pixel
centre + (p - (S-1)/2) * scale (tracker/crop.py). Cell k of the fused 72x72 score map and of
the regression map sits at crop pixel 4k; cell i of the 19x19 score map at 16i.

The model's three branches (models.branches) fit and apply the filters; the runtime computes the
features. Eq. 6 blends the initial and current models' *outputs*: for the regressor those are
the ReLU'd distance maps, so each map is ReLU'd and then blended (as the authors do, and as the
offline loss trains them), which keeps a blend of two valid predictions valid.

Deliberate fixes of the authors' tracker (reference section 7), all switched back by the
parameter ``compat="authors"`` (tracker.params) to reproduce their published numbers:
- fusion resamples the 19x19 map onto the 72 grid by its true geometry (bilinear at crop
  pixel 4k) instead of nearest-resizing 19->72 and 73->72 (a scale error of up to ~1.5 cells);
- the online regression label uses row = y, column = x and float distances (theirs is transposed
  and integer-truncated; target_model.regression_labels);
- the box is clipped per axis to the image (theirs is clamped to [1, max(H, W)] on both axes).
"""
import math
import time

import numpy as np
import torch

from fcot_ros.contract import LOST, TRACKING, UNCERTAIN, Tracker, TrackResult
from fcot_ros.contract.validation import check_box, check_image
from fcot_ros.errors import ConfigurationError, NotInitializedError
from fcot_ros.tracker.augmentation import augment_first_frame, zoom_samples
from fcot_ros.tracker.box_geometry import box_iou, clip_box, damp_size
from fcot_ros.tracker.crop import crop_to_image, extract_crop, image_to_crop
from fcot_ros.tracker.fusion import ScoreFusion
from fcot_ros.tracker.heap import release_free_heap
from fcot_ros.tracker.localization import PeakFlag, hann_window, iou_select, localize, refine_peak
from fcot_ros.tracker.memory import SampleMemory

# iou_select (TrackingNet preset): a new box overlapping the previous one less than this is suspect
IOU_SELECT_THRESHOLD = 0.05


def blend_outputs(branch, feat, current, initial, lam):
    """Eq. 6 on a branch's outputs for one frame: lam * out(current) + (1 - lam) * out(initial).

    feat (1, C, H, W); filters (1, F, C, k, k) -> (F, Ho, Wo). For the regressor the outputs are the
    ReLU'd distance maps (RegressionBranch.apply), so each map is ReLU'd before the blend.
    """
    out = branch.apply(feat.unsqueeze(1), current)
    if lam < 1.0:
        out = lam * out + (1.0 - lam) * branch.apply(feat.unsqueeze(1), initial)
    return out[0, 0]


def read_distances(regmap, row, col):
    """(l, r, t, b) of the (4, H, W) regression map at cell (row, col); bilinear between the four
    cells around a fractional position (sub-cell peaks)."""
    if float(row).is_integer() and float(col).is_integer():
        return tuple(float(v) for v in regmap[:, int(row), int(col)].cpu())
    h, w = regmap.shape[-2:]
    r0, c0 = min(int(math.floor(row)), h - 2), min(int(math.floor(col)), w - 2)
    fr, fc = row - r0, col - c0
    patch = regmap[:, r0:r0 + 2, c0:c0 + 2].double().cpu()
    weights = torch.tensor([[(1 - fr) * (1 - fc), (1 - fr) * fc], [fr * (1 - fc), fr * fc]], dtype=torch.float64)
    return tuple(float(v) for v in (patch * weights).sum(dim=(1, 2)))


class FCOTTracker(Tracker):
    """initialize(image, (x, y, w, h)); track(image) -> TrackResult. Images HxWx3 uint8 BGR.

    Implements the tracker contract (fcot_ros.contract.Tracker): it can rescale its state to a
    resized view (``rescale``), and its online optimizers, score fusion and decoding run torch ops on
    the calling thread (``uses_torch_threads``). Frames of another size than the init image's are
    the business of contract.size_policy.SizeChangePolicy, not of this class.
    """

    can_rescale = True
    uses_torch_threads = True

    def __init__(self, model, runtime, params, model_name="fcot"):
        """model: FCOTModel (its branches fit and apply the filters); runtime: FeatureRuntime of its
        feature network; params: TrackerParams."""
        self.model = model.eval()
        self.runtime = runtime
        self.params = params
        self.model_name = model_name
        self.backend_name = runtime.name
        self.device = runtime.device
        self.crop_size = model.config.crop_size
        if params.crop_size and params.crop_size != self.crop_size:
            # the crop geometry follows the network; a preset's crop must be the network's (build the
            # network with fcot_ros.assembly.crop_settings(params), as build_tracker does)
            raise ConfigurationError(f"the tracker parameters ask for {params.crop_size}-pixel crops, the network "
                                     f"takes {self.crop_size}: build it with crop_size={params.crop_size}")
        self.grid = model.reg.score_size                  # 72: the regression map's side
        self._label = "authors" if params.compat == "authors" else "fcot_ros"
        self._fusion = ScoreFusion(model.cls18.score_size, model.cls72.score_size, self.grid, params.merge_rate_18,
                                   params.merge_rate_72, mode=params.compat, device=self.device)
        self._window = hann_window(self.grid) if params.window_output else None
        self._initialized = False
        self._owed = [0, 0]            # classifier / regressor iterations carried over (max_update_iter_per_frame)

    # ------------------------------------------------------------------ geometry helpers
    def _scale_bounds(self, base_size):
        """Allowed crop scales: target >= 10 crop px on its short side, crop <= image."""
        lo = self.init_scale * 10.0 / max(min(base_size), 1e-6)
        hi = self.init_scale * min(self.image_size[0] / base_size[0], self.image_size[1] / base_size[1])
        return lo, max(hi, lo)

    def _scale_for(self, w, h):
        s = math.sqrt(w * h) * self.params.search_area_scale / self.crop_size
        return min(max(s, self.scale_bounds[0]), self.scale_bounds[1])

    # ------------------------------------------------------------------ initialisation
    @torch.inference_mode()
    def initialize(self, image, box):
        """Start tracking ``box`` = (x, y, w, h) in image pixels."""
        image = check_image(image)
        x, y, w, h = check_box(box, image.shape, min_size=2.0)
        self._initialized = False       # until this initialisation has completed
        self._owed = [0, 0]
        p = self.params
        # the regression memory keeps only the windows around each sample's centre that its loss
        # sees when that suffices (masked rule or exact solve): 7x7 instead of 72x72 cells
        grid = (self.grid, self.grid)
        windows = p.reg_solver == "exact" or self.model.reg.optimizer.window_size(grid) is not None
        self._reg_grid = grid if windows else None
        self.image_size = (image.shape[1], image.shape[0])
        self.pos = (x + w / 2.0, y + h / 2.0)
        self.size = (w, h)
        self.init_scale = math.sqrt(w * h) * p.search_area_scale / self.crop_size
        self.scale_bounds = (0.0, float("inf"))
        base = (w / self.init_scale, h / self.init_scale)
        self.scale_bounds = self._scale_bounds(base)
        self.scale = self._scale_for(w, h)

        s = self.crop_size
        expanded_size = int(round(s * p.augmentation_expansion_factor))
        expanded = extract_crop(image, self.pos, self.scale, expanded_size)
        samples = augment_first_frame(expanded, s, p)
        bx, by, bw, bh = image_to_crop((x, y, w, h), self.pos, self.scale, s)
        crops = [smp.crop for smp in samples]
        boxes = [(bx + smp.shift[0], by + smp.shift[1], bw, bh) for smp in samples]
        centre = (s - 1) / 2.0
        for crop, f in zoom_samples(expanded, s, p.augment_scale):
            crops.append(crop)
            boxes.append((centre + (bx - centre) * f, centre + (by - centre) * f, bw * f, bh * f))
        crops = np.stack(crops)
        boxes = np.asarray(boxes, dtype=np.float32)
        boxes_t = torch.from_numpy(boxes).to(self.device)

        n = len(crops)
        m = self.model
        capacity = max(p.sample_memory_size, n + 1)
        # the first-frame samples go through the network init_batch_size at a time, straight into
        # the sample memory (bounds the activation memory; the same result as one batch)
        chunk = p.init_batch_size or n
        self.memory, f18, f72, freg = None, 0.0, 0.0, None
        for i in range(0, n, chunk):
            cls18, cls72, reg, g18, g72, greg = self.runtime.extract_init(crops[i:i + chunk], boxes[i:i + chunk])
            samples = {"cls18": cls18, "cls72": cls72, "reg": self._reg_sample(reg, boxes_t[i:i + chunk])}
            if self.memory is None:
                shapes = {k: v.shape[1:] for k, v in samples.items()}
                self.memory = SampleMemory(capacity, shapes, p.init_samples_minimum_weight, device=self.device)
            self.memory.write_initial(i, samples)
            share = cls18.shape[0] / n                   # the initializers' filters are means over samples
            f18, f72 = f18 + g18 * share, f72 + g72 * share
            freg = greg if freg is None else freg        # RMG: from the first (identity) sample
        self.memory.set_initial(boxes_t)
        del cls18, cls72, reg, samples

        b = boxes_t.unsqueeze(1)
        mem = self.memory
        self.f18 = m.cls18.fit(mem.view("cls18"), b, num_iter=p.net_opt_iter,
                               start=f18.view(1, 1, *f18.shape[1:])).filter
        self.f72 = m.cls72.fit(mem.view("cls72"), b, num_iter=p.net_opt_iter_72,
                               start=f72.view(1, 1, *f72.shape[1:])).filter
        self.freg_init = freg
        self.freg = self._fit_regressor(freg, b, p.reg_net_opt_iter)
        self.f18_init, self.f72_init = self.f18, self.f72

        self.frame_num = 1
        self.frames_since_update = 0
        self.best_sample = None
        self.search_centre = self.pos
        self.lost_count = 0
        self._initialized = True
        release_free_heap()

    def _reg_sample(self, reg, boxes):
        """What the regression memory keeps of maps reg (N, C, H, W) with boxes (N, 4) crop px:
        the maps, or their loss windows (N, C, L, L)."""
        if self._reg_grid is None:
            return reg
        return self.model.reg.optimizer.cut_windows(reg.unsqueeze(1), boxes.unsqueeze(1), self._label)[:, 0]

    # ------------------------------------------------------------------ tracking
    def _scores(self, cls18, cls72, reg):
        """Fused (72, 72) score map and (4, 72, 72) regression map (crop pixels)."""
        p, m = self.params, self.model
        s18 = blend_outputs(m.cls18, cls18, self.f18, self.f18_init, p.lamda_18)[0]          # (19, 19)
        s72 = blend_outputs(m.cls72, cls72, self.f72, self.f72_init, p.lamda_72)[0]          # (73, 73)
        regmap = blend_outputs(m.reg, reg, self.freg, self.freg_init, p.reg_lamda) * 4.0    # ReLU'd, then blended
        return self._fusion(s18, s72), regmap

    @torch.inference_mode()
    def track(self, image) -> TrackResult:
        """The target in the next frame: box [x, y, w, h] in image pixels, score, state and stage timings;
        the online models learn from the frame unless it is uncertain or lost."""
        if not self._initialized:
            raise NotInitializedError("track() called before a successful initialize()")
        image = check_image(image)
        p = self.params
        self.frame_num += 1
        t0 = time.perf_counter()
        zoom = self.search_zoom()
        centre, scale, s = self.search_centre, self.scale * zoom, self.crop_size
        crop = extract_crop(image, centre, scale, s)
        t1 = time.perf_counter()
        cls18, cls72, reg = self.runtime.extract(crop[None])
        t2 = time.perf_counter()

        fused, regmap = self._scores(cls18, cls72, reg)
        fused_np = fused.float().cpu().numpy()
        half = (s - 1) / 2.0
        prev_cell = (((self.pos[1] - centre[1]) / scale + half) / 4.0, ((self.pos[0] - centre[0]) / scale + half) / 4.0)
        size_cells = (self.size[1] / scale / 4.0, self.size[0] / scale / 4.0)
        loc = localize(fused_np, prev_cell, size_cells, p, self._window if zoom == 1.0 else None)
        row, col = refine_peak(fused_np, loc.peak) if p.subcell_peak else loc.peak
        peak_img = crop_to_image((4.0 * col, 4.0 * row, 0, 0), centre, scale, s)[:2]

        flag = loc.flag
        if zoom > 1.0 and flag is not PeakFlag.NOT_FOUND:
            # re-detection in a widened crop: only a confident peak, and never a model update
            flag = PeakFlag.UNCERTAIN if loc.score >= p.redetect_threshold else PeakFlag.NOT_FOUND
        if flag is not PeakFlag.NOT_FOUND:
            box = self._decode_box(regmap, row, col, centre, scale)
            flag = self._select_by_iou(flag, box)
        if flag is PeakFlag.NOT_FOUND:
            self.lost_count += 1
            t3 = time.perf_counter()
            return self._result(loc.score, LOST, (t0, t1, t2, t3, t3))

        self.pos = (box[0] + box[2] / 2.0, box[1] + box[3] / 2.0)
        self.size = (box[2], box[3])
        self.scale = self._scale_for(*self.size)
        self.search_centre = peak_img
        self.lost_count = 0
        t3 = time.perf_counter()

        if flag is not PeakFlag.UNCERTAIN:
            box_crop = image_to_crop(box, centre, scale, s)
            self._update(cls18, cls72, reg, box_crop, loc.score, flag is PeakFlag.HARD_NEGATIVE)
        t4 = time.perf_counter()
        return self._result(loc.score, UNCERTAIN if flag is PeakFlag.UNCERTAIN else TRACKING, (t0, t1, t2, t3, t4))

    def search_zoom(self) -> float:
        """How many times the normal search area this frame's crop covers: 1.0, or while the target
        has been lost for ``redetect_after`` frames or more, growing by ``redetect_growth`` per
        further lost frame up to ``redetect_max_zoom`` (params.py, re-detection)."""
        p = self.params
        if p.redetect_after <= 0 or self.lost_count < p.redetect_after:
            return 1.0
        return float(min(p.redetect_growth ** (self.lost_count - p.redetect_after + 1), p.redetect_max_zoom))

    def rescale(self, size):
        """Scale the state (position, size, search scale and its bounds) to frames of ``size`` =
        (w, h) pixels showing the same view at another resolution (contract.size_policy decides when)."""
        if not self._initialized:
            raise NotInitializedError("rescale() called before a successful initialize()")
        (w0, h0), (w1, h1) = self.image_size, size
        fx, fy = w1 / w0, h1 / h0
        f = math.sqrt(fx * fy)
        self.pos = (self.pos[0] * fx, self.pos[1] * fy)
        self.search_centre = (self.search_centre[0] * fx, self.search_centre[1] * fy)
        self.size = (self.size[0] * f, self.size[1] * f)
        self.scale *= f
        self.init_scale *= f
        self.scale_bounds = (self.scale_bounds[0] * f, self.scale_bounds[1] * f)
        self.image_size = (int(w1), int(h1))

    def _decode_box(self, regmap, row, col, centre, scale):
        """Image box from the distances at the peak cell (row, col) of the (4, 72, 72) map (crop px):
        damped in size (size_update_rate) and clipped to the image (per ``compat``)."""
        p, s = self.params, self.crop_size
        l, r, t, b = read_distances(regmap, row, col)
        if not (l + r >= 1.0 and t + b >= 1.0 and all(map(math.isfinite, (l, r, t, b)))):
            # degenerate regression: keep the previous size, centred on the peak
            w_c, h_c = self.size[0] / scale, self.size[1] / scale
            l = r = w_c / 2.0
            t = b = h_c / 2.0
        box = crop_to_image((4.0 * col - l, 4.0 * row - t, l + r, t + b), centre, scale, s)
        if p.size_update_rate < 1.0:
            box = damp_size(box, self.size, p.size_update_rate)
        return clip_box(box, self.image_size, p.min_target_size, mode=p.compat)

    def _select_by_iou(self, flag, box):
        """iou_select (the authors' TrackingNet setting): a box that overlaps the previous one by
        less than IOU_SELECT_THRESHOLD turns a normal peak uncertain and any other peak not found."""
        if not self.params.iou_select:
            return flag
        previous = (self.pos[0] - self.size[0] / 2.0, self.pos[1] - self.size[1] / 2.0, self.size[0], self.size[1])
        return iou_select(flag, box_iou(box, previous), IOU_SELECT_THRESHOLD)

    def _result(self, score, state, marks):
        t0, t1, t2, t3, t4 = marks
        timings = {"crop": (t1 - t0) * 1e3, "network": (t2 - t1) * 1e3, "decode": (t3 - t2) * 1e3,
                   "optimizers": (t4 - t3) * 1e3}
        box = (self.pos[0] - self.size[0] / 2.0, self.pos[1] - self.size[1] / 2.0, self.size[0], self.size[1])
        return TrackResult(box=tuple(float(v) for v in box), score=float(score), state=state, timings=timings)

    # ------------------------------------------------------------------ online update
    def _update(self, cls18, cls72, reg, box_crop, score, hard_negative):
        p = self.params
        box = torch.tensor(box_crop, dtype=torch.float32, device=self.device)
        sample = ({"cls18": cls18[0], "cls72": cls72[0], "reg": self._reg_sample(reg, box[None])[0]}, box)
        if self.frame_num <= p.init_train_frames + 1:
            self.memory.add(*sample, p.learning_rate)
            self._schedule(p.init_train_iter, p.reg_init_train_iter)
            return
        if hard_negative:
            self.memory.add(*sample, p.hard_negative_learning_rate)
            self._schedule(p.hard_negative_cls_iter, p.hard_negative_reg_iter)
            return
        if not p.select_best_sample:
            self.best_sample = sample
        elif self.best_sample is None or score >= self.best_score:
            self.best_sample = ({k: v.clone() for k, v in sample[0].items()}, sample[1])
            self.best_score = score
        if (self.frame_num - 1) % p.train_skipping == 0 and self.best_sample is not None:
            self.memory.add(*self.best_sample, p.learning_rate)
            self.best_sample = None
            self._schedule(p.net_opt_update_iter, p.reg_net_opt_update_iter)
        else:
            self._schedule(0, 0)

    def _schedule(self, cls_iter, reg_iter):
        """Run an update's iterations now (max_update_iter_per_frame 0, authors), or add them to
        those carried over and run at most max_update_iter_per_frame of them on this step (an exact
        regressor solve needs no steps: it runs whenever regressor iterations are due)."""
        cap = self.params.max_update_iter_per_frame
        if cap <= 0:
            if cls_iter or reg_iter:
                self._optimize(cls_iter, reg_iter)
            return
        self._owed[0] += cls_iter
        self._owed[1] += reg_iter
        ci = min(self._owed[0], cap)
        ri = self._owed[1] if self.params.reg_solver == "exact" else min(self._owed[1], cap)
        self._owed[0] -= ci
        self._owed[1] -= ri
        if ci or ri:
            self._optimize(ci, ri)

    def _optimize(self, cls_iter, reg_iter):
        m, mem = self.model, self.memory
        boxes, weights = mem.stored_boxes(), mem.sample_weights()
        if cls_iter > 0:
            self.f18 = m.cls18.fit(mem.view("cls18"), boxes, weights, num_iter=cls_iter, start=self.f18).filter
            self.f72 = m.cls72.fit(mem.view("cls72"), boxes, weights, num_iter=cls_iter, start=self.f72).filter
        if reg_iter > 0:
            self.freg = self._fit_regressor(self.freg, boxes, reg_iter)

    def _fit_regressor(self, start, boxes, num_iter):
        """Regression filter fitted to the memory's samples (boxes (N, 1, 4) crop px): ``num_iter``
        steps from ``start``, or the exact minimiser (reg_solver "exact"). The regression loss
        weighs samples uniformly (authors)."""
        return self.model.reg.fit(self.memory.view("reg"), boxes, None, num_iter=num_iter, start=start,
                                  solver=self.params.reg_solver, grid_size=self._reg_grid, label=self._label).filter
