"""The virtual pan-tilt camera of the follow demo, without ROS: a window onto a real sequence (or the
generated clip), magnified, that moves as a pan-tilt head turns; the target's true box in the view
comes from the sequence's ground truth.

World: frame k of the sequence scaled by ``zoom`` (world pixels = zoom x frame pixels). View: a
``view_size`` window of it, a pinhole camera of focal length ``focal`` (view pixels) whose optical
axis points at world pixel (cx0 + focal tan(pan), cy0 - focal tan(tilt)): pan positive turns right,
tilt positive turns up, as azimuth and elevation of fcot_ros.camera_bearing. The window's centre is
kept inside the world (the head's limits).

    scene = FollowScene.from_sequence(frames, boxes, view_size=(480, 360), zoom=2.0, focal=500.0)
    scene.point_at(scene.target_centre_world(0))
    image = scene.render(k); box = scene.target_box(k); scene.turn(pan_rate, tilt_rate, dt)
"""
import math
from dataclasses import dataclass, field

import cv2
import numpy as np

CENTRAL_SHARE = 0.2      # "in the centre": the target's centre within the central 20% of width and height


@dataclass
class FollowScene:
    """frames: list of HxWx3 uint8 BGR images (or callables returning one); boxes: (N, 4) x, y, w, h
    frame pixels; view_size: (width, height) view pixels; zoom: world / frame pixels; focal: the
    view's focal length, pixels."""

    frames: list
    boxes: np.ndarray
    view_size: tuple = (480, 360)
    zoom: float = 2.0
    focal: float = 500.0
    pan: float = 0.0
    tilt: float = 0.0
    _frame_size: tuple = field(default=None, repr=False)

    def __post_init__(self):
        self.boxes = np.asarray(self.boxes, dtype=np.float64)
        if len(self.frames) != len(self.boxes) or not len(self.frames):
            raise ValueError(f"{len(self.frames)} frames but {len(self.boxes)} boxes")
        h, w = self._image(0).shape[:2]
        self._frame_size = (w, h)
        vw, vh = self.view_size
        if w * self.zoom < vw or h * self.zoom < vh:
            raise ValueError(f"the {vw}x{vh} view does not fit in the {w}x{h} frames at zoom {self.zoom}")

    def _image(self, k):
        f = self.frames[k]
        return f() if callable(f) else f

    def __len__(self) -> int:
        return len(self.frames)

    # ------------------------------------------------------------------ geometry
    @property
    def world_size(self) -> tuple:
        """(width, height) of the world, pixels."""
        return self._frame_size[0] * self.zoom, self._frame_size[1] * self.zoom

    def view_centre(self) -> tuple:
        """World pixel at the view's centre for the current pan and tilt."""
        ww, wh = self.world_size
        return ww / 2 + self.focal * math.tan(self.pan), wh / 2 - self.focal * math.tan(self.tilt)

    def _limits(self):
        """(pan, tilt) limits: the view's window stays inside the world."""
        ww, wh = self.world_size
        vw, vh = self.view_size
        return math.atan((ww - vw) / 2 / self.focal), math.atan((wh - vh) / 2 / self.focal)

    def point_at(self, world_xy):
        """Turn the head so that world pixel ``world_xy`` is at the view's centre (within the limits)."""
        ww, wh = self.world_size
        self.pan = math.atan((world_xy[0] - ww / 2) / self.focal)
        self.tilt = math.atan((wh / 2 - world_xy[1]) / self.focal)
        self._clamp()

    def turn(self, pan_rate: float, tilt_rate: float, dt: float):
        """Turn at ``pan_rate``, ``tilt_rate`` rad/s for ``dt`` s (within the limits)."""
        self.pan += float(pan_rate) * dt
        self.tilt += float(tilt_rate) * dt
        self._clamp()

    def _clamp(self):
        pan_max, tilt_max = self._limits()
        self.pan = min(max(self.pan, -pan_max), pan_max)
        self.tilt = min(max(self.tilt, -tilt_max), tilt_max)

    def at_limit(self) -> bool:
        """The head is at one of its limits (the view's window touches the world's edge)."""
        pan_max, tilt_max = self._limits()
        return abs(self.pan) >= pan_max - 1e-9 or abs(self.tilt) >= tilt_max - 1e-9

    def target_centre_world(self, k: int) -> tuple:
        """World pixel of the target's true centre at frame k."""
        x, y, w, h = self.boxes[k] * self.zoom
        return x + w / 2, y + h / 2

    def target_box(self, k: int) -> tuple:
        """The target's true box (x, y, w, h) in view pixels at frame k (current pointing)."""
        cx, cy = self.view_centre()
        vw, vh = self.view_size
        x, y, w, h = self.boxes[k] * self.zoom
        return x - (cx - vw / 2), y - (cy - vh / 2), w, h

    def centre_error(self, k: int) -> tuple:
        """(dx, dy): the target centre's offset from the view's centre at frame k, view pixels."""
        x, y, w, h = self.target_box(k)
        vw, vh = self.view_size
        return x + w / 2 - vw / 2, y + h / 2 - vh / 2

    def in_centre(self, k: int) -> bool:
        """The target's centre lies within the central CENTRAL_SHARE of the view's width and height."""
        dx, dy = self.centre_error(k)
        vw, vh = self.view_size
        return abs(dx) <= CENTRAL_SHARE / 2 * vw and abs(dy) <= CENTRAL_SHARE / 2 * vh

    def camera_matrix(self) -> tuple:
        """K (9 numbers, row-major) of the view, pixel centres at integers as CameraInfo has them."""
        vw, vh = self.view_size
        return (self.focal, 0.0, vw / 2 - 0.5, 0.0, self.focal, vh / 2 - 0.5, 0.0, 0.0, 1.0)

    # ------------------------------------------------------------------ images
    def render(self, k: int) -> np.ndarray:
        """The view (view_size, uint8 BGR) of frame k at the current pointing (bilinear, sub-pixel)."""
        cx, cy = self.view_centre()
        vw, vh = self.view_size
        z = self.zoom
        # view pixel (u, v) <- frame pixel ((u + 0.5 + cx - vw/2) / z - 0.5, ...)
        m = np.array([[1 / z, 0.0, (cx - vw / 2 + 0.5) / z - 0.5],
                      [0.0, 1 / z, (cy - vh / 2 + 0.5) / z - 0.5]])
        return cv2.warpAffine(self._image(k), m, (vw, vh), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REPLICATE)

    def annotate(self, image, k: int, tracked=None, note: str = "") -> np.ndarray:
        """``image`` with the central zone (grey), the true box (green) and the tracked box (x, y, w, h;
        yellow) drawn, and ``note``."""
        out = image.copy()
        vw, vh = self.view_size
        zx, zy = CENTRAL_SHARE / 2 * vw, CENTRAL_SHARE / 2 * vh
        cv2.rectangle(out, (int(vw / 2 - zx), int(vh / 2 - zy)), (int(vw / 2 + zx), int(vh / 2 + zy)),
                      (160, 160, 160), 1)
        x, y, w, h = self.target_box(k)
        cv2.rectangle(out, (int(x), int(y)), (int(x + w), int(y + h)), (0, 200, 0), 2)
        if tracked is not None:
            x, y, w, h = tracked
            cv2.rectangle(out, (int(x), int(y)), (int(x + w), int(y + h)), (0, 220, 255), 2)
        if note:
            cv2.putText(out, note, (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 2, cv2.LINE_AA)
            cv2.putText(out, note, (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        return out


def static_share(scene: FollowScene, frames) -> float:
    """Share of ``frames`` (indices) whose target is in the centre with the head held where it is now:
    the baseline of a camera that does not follow."""
    frames = list(frames)
    return sum(scene.in_centre(k) for k in frames) / max(len(frames), 1)


@dataclass
class PDController:
    """Pan-tilt rates from the target's bearing: rate = kp * angle + kd * d(angle)/dt, per axis, limited to
    max_rate rad/s. angle: azimuth (pan) or elevation (tilt), radians; update() takes the bearing's
    stamp (s) so that the derivative uses the images' timeline."""

    kp: float = 5.0
    kd: float = 0.2
    max_rate: float = 1.5
    _last: tuple = None

    def reset(self):
        """Forget the last angles (no derivative from before a hold)."""
        self._last = None

    def update(self, azimuth: float, elevation: float, stamp_s: float) -> tuple:
        """(pan_rate, tilt_rate) rad/s."""
        d_az = d_el = 0.0
        if self._last is not None and stamp_s > self._last[0]:
            dt = stamp_s - self._last[0]
            d_az, d_el = (azimuth - self._last[1]) / dt, (elevation - self._last[2]) / dt
        self._last = (stamp_s, azimuth, elevation)
        rates = [self.kp * a + self.kd * d for a, d in ((azimuth, d_az), (elevation, d_el))]
        return tuple(min(max(r, -self.max_rate), self.max_rate) for r in rates)
