"""The direction to an image point in the camera's optical frame, from a calibrated camera model (the
fields of sensor_msgs/CameraInfo, REP-104), with the lens distortion undone. Numpy only: no ROS here;
fcot_ros/ros/camera_info.py turns CameraInfo messages into CameraModel.

Conventions
  pixels:        continuous image coordinates, pixel (i, j) covering [i, i+1) x [j, j+1): the tracker's
                 boxes (x, y, w, h). CameraInfo's K (as OpenCV) puts pixel centres at integers, so a
                 point (u, v) of ours is (u - 0.5, v - 0.5) there.
  optical frame: x right, y down, z forward (REP-103 "_optical" frames).
  azimuth:       radians, positive to the right of the optical axis: atan2(x, z).
  elevation:     radians, positive above it: atan2(-y, hypot(x, z)).

Distortion models (coefficients as CameraInfo's D):
  plumb_bob (k1, k2, p1, p2, k3) and rational_polynomial (k1, k2, p1, p2, k3, k4, k5, k6): the
  Brown-Conrady model of OpenCV's calibrateCamera; equidistant (k1, k2, k3, k4): OpenCV's fisheye
  model, theta_d = theta (1 + k1 theta^2 + k2 theta^4 + k3 theta^6 + k4 theta^8).
  Undistortion inverts the forward model by Newton's method to 1e-12 in normalised coordinates
  (OpenCV's undistortPoints runs a fixed number of fixed-point steps by default).
"""
import math
from dataclasses import dataclass

import numpy as np

from fcot_ros.errors import FCOTError

DISTORTION_COEFFICIENTS = {"plumb_bob": 5, "rational_polynomial": 8, "equidistant": 4}
NEWTON_TOLERANCE = 1e-12            # normalised image coordinates
NEWTON_MAX_STEPS = 50


class CameraModelError(FCOTError):
    """Calibration fields that cannot give a bearing (uncalibrated, unknown model, inconsistent)."""


@dataclass(frozen=True)
class Bearing:
    """A unit direction (x, y, z) in the optical frame and its azimuth / elevation (radians)."""

    x: float
    y: float
    z: float
    azimuth: float
    elevation: float


def _brown_forward(xy: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Brown-Conrady (plumb_bob, rational_polynomial): undistorted -> distorted normalised (2,)."""
    x, y = xy
    k1, k2, p1, p2, k3 = d[:5]
    k4, k5, k6 = d[5:8] if len(d) >= 8 else (0.0, 0.0, 0.0)
    r2 = x * x + y * y
    radial = (1 + k1 * r2 + k2 * r2 ** 2 + k3 * r2 ** 3) / (1 + k4 * r2 + k5 * r2 ** 2 + k6 * r2 ** 3)
    return np.array([x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x),
                     y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y])


def _brown_jacobian(xy: np.ndarray, d: np.ndarray, h: float = 1e-7) -> np.ndarray:
    """(2, 2) Jacobian of _brown_forward at ``xy`` by central differences."""
    jac = np.empty((2, 2))
    for k in range(2):
        e = np.zeros(2)
        e[k] = h
        jac[:, k] = (_brown_forward(xy + e, d) - _brown_forward(xy - e, d)) / (2 * h)
    return jac


FOLD_CHECK_STEPS = 16     # points on the segment from the optical axis to a solution whose Jacobian is checked


def _invert_brown(distorted: np.ndarray, d: np.ndarray) -> np.ndarray:
    """The undistorted normalised point whose distortion is ``distorted`` (2,): Newton's method with a
    central-difference Jacobian, from the distorted point itself. A solution must lie on the lens's
    first sheet (the forward map orientation-preserving all the way from the optical axis to it):
    beyond the radius where the polynomial folds, the "inverse" is another, physically wrong point."""
    xy = distorted.astype(np.float64).copy()
    for _ in range(NEWTON_MAX_STEPS):
        residual = _brown_forward(xy, d) - distorted
        if np.max(np.abs(residual)) < NEWTON_TOLERANCE:
            if all(np.linalg.det(_brown_jacobian(xy * t, d)) > 0
                   for t in np.linspace(0.0, 1.0, FOLD_CHECK_STEPS + 1)):
                return xy
            break
        xy = xy - np.linalg.solve(_brown_jacobian(xy, d), residual)
    raise CameraModelError("undistortion did not converge (the distortion coefficients fold the image "
                           "there: the point lies outside the calibrated field of view)")


def _invert_equidistant(distorted: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Unit ray (3,) of a distorted normalised point of the equidistant (fisheye) model: solve
    theta_d = theta (1 + k1 t^2 + k2 t^4 + k3 t^6 + k4 t^8) for theta by Newton's method."""
    theta_d = float(np.hypot(*distorted))
    if theta_d < 1e-15:
        return np.array([0.0, 0.0, 1.0])
    k1, k2, k3, k4 = d[:4]
    theta = theta_d
    for _ in range(NEWTON_MAX_STEPS):
        t2 = theta * theta
        f = theta * (1 + k1 * t2 + k2 * t2 ** 2 + k3 * t2 ** 3 + k4 * t2 ** 4) - theta_d
        if abs(f) < NEWTON_TOLERANCE:
            break
        df = 1 + 3 * k1 * t2 + 5 * k2 * t2 ** 2 + 7 * k3 * t2 ** 3 + 9 * k4 * t2 ** 4
        theta -= f / df
    else:
        raise CameraModelError("fisheye undistortion did not converge")
    if not 0.0 <= theta < math.pi:
        raise CameraModelError(f"fisheye undistortion gave an angle of {math.degrees(theta):.1f} degrees")
    s = math.sin(theta) / theta_d
    return np.array([distorted[0] * s, distorted[1] * s, math.cos(theta)])


@dataclass(frozen=True)
class CameraModel:
    """A calibrated camera as CameraInfo gives it. width, height: the calibrated (full) resolution,
    pixels; k: (3, 3) intrinsics; d: distortion coefficients; r: (3, 3) rectification; p: (3, 4)
    projection; binning_x, binning_y, roi (x_offset, y_offset, width, height; width 0 = full): the
    image's place in the full sensor (REP-104); rectified: the images are rectified (use P, no
    distortion) rather than raw (use K and D)."""

    width: int
    height: int
    distortion_model: str
    d: tuple
    k: tuple
    r: tuple
    p: tuple
    binning_x: int = 0
    binning_y: int = 0
    roi: tuple = (0, 0, 0, 0)
    rectified: bool = False

    @classmethod
    def checked(cls, **fields) -> "CameraModel":
        """CameraModel from CameraInfo's fields, checked: raises CameraModelError saying what is wrong."""
        model = cls(**fields)
        model.check()
        return model

    def check(self):
        """Raise CameraModelError unless the fields describe a calibrated camera this module can use."""
        k = np.asarray(self.k, dtype=np.float64)
        if k.size != 9 or not np.all(np.isfinite(k)):
            raise CameraModelError("K must hold 9 finite numbers")
        if k[0] <= 0 or k[4] <= 0:
            raise CameraModelError("the camera is not calibrated (K has no focal length: fx, fy <= 0)")
        if self.width <= 0 or self.height <= 0:
            raise CameraModelError(f"calibrated size {self.width}x{self.height} is empty")
        if self.rectified:
            p = np.asarray(self.p, dtype=np.float64)
            if p.size != 12 or not np.all(np.isfinite(p)) or p[0] <= 0 or p[5] <= 0:
                raise CameraModelError("rectified images need P with a focal length (fx', fy' > 0)")
            if np.asarray(self.r).size != 9 or not np.all(np.isfinite(self.r)):
                raise CameraModelError("R must hold 9 finite numbers")
            return
        d = np.asarray(self.d, dtype=np.float64)
        if not np.all(np.isfinite(d)):
            raise CameraModelError("D holds a NaN or an infinity")
        if self.distortion_model in ("", "none") and not np.any(d):
            return                                    # a pinhole camera without distortion
        if self.distortion_model not in DISTORTION_COEFFICIENTS:
            raise CameraModelError(f"distortion model {self.distortion_model!r} is not supported (use "
                                   f"{', '.join(DISTORTION_COEFFICIENTS)})")
        need = DISTORTION_COEFFICIENTS[self.distortion_model]
        if self.distortion_model == "plumb_bob" and len(d) == 8:
            need = 8                                  # some drivers send plumb_bob with 8 coefficients
        if len(d) != need:
            raise CameraModelError(f"{self.distortion_model} takes {need} coefficients in D, not {len(d)}")

    def image_size(self) -> tuple:
        """(width, height) in pixels of the images this calibration describes (ROI and binning applied)."""
        rw, rh = (self.roi[2], self.roi[3]) if self.roi[2] and self.roi[3] else (self.width, self.height)
        return rw // max(self.binning_x, 1), rh // max(self.binning_y, 1)

    def to_full_resolution(self, u: float, v: float) -> tuple:
        """A point (u, v) of the (binned, ROI) image, our pixel convention, in the calibrated full
        image's OpenCV convention (pixel centres at integers)."""
        bx, by = max(self.binning_x, 1), max(self.binning_y, 1)
        return u * bx + self.roi[0] - 0.5, v * by + self.roi[1] - 0.5

    def ray(self, u: float, v: float) -> np.ndarray:
        """Unit direction (3,) in the optical frame of image point (u, v) (pixels, our convention)."""
        uf, vf = self.to_full_resolution(u, v)
        if self.rectified:
            p = np.asarray(self.p, dtype=np.float64).reshape(3, 4)
            x = (uf - p[0, 2]) / p[0, 0]
            y = (vf - p[1, 2]) / p[1, 1]
            rect = np.array([x, y, 1.0])
            # R rotates optical-frame rays into the rectified frame: back with its transpose
            ray = np.asarray(self.r, dtype=np.float64).reshape(3, 3).T @ rect
            return ray / np.linalg.norm(ray)
        k = np.asarray(self.k, dtype=np.float64).reshape(3, 3)
        # K^-1 with skew: y first, then x
        y = (vf - k[1, 2]) / k[1, 1]
        x = (uf - k[0, 2] - k[0, 1] * y) / k[0, 0]
        distorted = np.array([x, y])
        d = np.asarray(self.d, dtype=np.float64)
        if self.distortion_model == "equidistant":
            return _invert_equidistant(distorted, d)
        xy = _invert_brown(distorted, d) if np.any(d) else distorted
        ray = np.array([xy[0], xy[1], 1.0])
        return ray / np.linalg.norm(ray)

    def bearing(self, u: float, v: float) -> Bearing:
        """Bearing of image point (u, v) (pixels, our convention; e.g. a box centre)."""
        x, y, z = (float(c) for c in self.ray(u, v))
        return Bearing(x, y, z, math.atan2(x, z), math.atan2(-y, math.hypot(x, z)))
