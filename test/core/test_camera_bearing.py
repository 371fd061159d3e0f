"""fcot_ros.camera_bearing against an independent forward model: OpenCV's projectPoints (plumb_bob,
rational_polynomial) and fisheye.projectPoints (equidistant) project known directions of synthetic
cameras with strong distortion; the bearing of the projected pixel must be that direction (< 0.05
degrees is the requirement; Newton's method gives ~1e-6). Bad calibrations raise CameraModelError
saying what is wrong."""
import math

import cv2
import numpy as np
import pytest

from fcot_ros.camera_bearing import CameraModel, CameraModelError

K = np.array([[612.5, 0.0, 331.2], [0.0, 608.9, 247.6], [0.0, 0.0, 1.0]])
EYE = tuple(np.eye(3).ravel())
P0 = tuple(np.hstack([K, np.zeros((3, 1))]).ravel())
LENSES = {   # strong but realistic lenses (a wide-angle drone camera, a fisheye)
    "plumb_bob": (-0.291, 0.094, 0.0012, -0.0017, -0.013),
    "rational_polynomial": (-0.31, 0.11, 0.001, -0.0011, 0.002, 0.04, 0.012, 0.0015),
    "equidistant": (-0.021, 0.012, -0.0031, 0.0006),
}
MAX_ERROR_DEG = 0.05


def _directions(n=300, seed=0, half_fov=(0.45, 0.36)):
    """Unit rays spread over the image (tan of the half field of view in x and y)."""
    rng = np.random.default_rng(seed)
    rays = np.stack([rng.uniform(-half_fov[0], half_fov[0], n), rng.uniform(-half_fov[1], half_fov[1], n),
                     np.ones(n)], axis=1)
    return rays / np.linalg.norm(rays, axis=1, keepdims=True)


def _project(rays, model, d, k=K):
    """OpenCV's pixel (pixel centres at integers) of every ray, (N, 2)."""
    if model == "equidistant":
        return cv2.fisheye.projectPoints(rays.reshape(-1, 1, 3), np.zeros(3), np.zeros(3), k,
                                         np.asarray(d, dtype=np.float64))[0].reshape(-1, 2)
    return cv2.projectPoints(rays, np.zeros(3), np.zeros(3), k, np.asarray(d, dtype=np.float64))[0].reshape(-1, 2)


def _angle_deg(a, b):
    return math.degrees(math.atan2(np.linalg.norm(np.cross(a, b)), float(np.dot(a, b))))


@pytest.mark.parametrize("model", sorted(LENSES))
def test_bearing_inverts_opencv_projection(model):
    cam = CameraModel.checked(width=640, height=480, distortion_model=model, d=LENSES[model], k=tuple(K.ravel()),
                              r=EYE, p=P0)
    rays = _directions()
    pixels = _project(rays, model, LENSES[model])
    errors = [_angle_deg(cam.ray(u + 0.5, v + 0.5), ray) for (u, v), ray in zip(pixels, rays)]
    assert max(errors) < MAX_ERROR_DEG, max(errors)
    # the distortion matters: ignoring it would be far off at the edges (the test can fail)
    pinhole = CameraModel.checked(width=640, height=480, distortion_model="", d=(), k=tuple(K.ravel()), r=EYE, p=P0)
    naive = [_angle_deg(pinhole.ray(u + 0.5, v + 0.5), ray) for (u, v), ray in zip(pixels, rays)]
    assert max(naive) > 1.0, max(naive)


def test_azimuth_elevation_signs_and_values():
    cam = CameraModel.checked(width=640, height=480, distortion_model="plumb_bob", d=(0.0,) * 5, k=tuple(K.ravel()),
                              r=EYE, p=P0)
    centre = cam.bearing(K[0, 2] + 0.5, K[1, 2] + 0.5)
    assert abs(centre.azimuth) < 1e-12 and abs(centre.elevation) < 1e-12 and centre.z == pytest.approx(1.0)
    right_up = cam.bearing(K[0, 2] + 0.5 + K[0, 0], K[1, 2] + 0.5 - K[1, 1])     # x = 1, y = -1 (up)
    assert right_up.azimuth == pytest.approx(math.pi / 4)
    assert right_up.elevation == pytest.approx(math.atan2(1.0, math.sqrt(2.0)))
    assert math.hypot(right_up.x, right_up.y, right_up.z) == pytest.approx(1.0)


def test_binning_and_roi_map_to_the_calibrated_sensor():
    """A 2x-binned image of a 200 px-offset ROI: its pixel (u, v) is sensor pixel (2u + 200, 2v + 100)
    (pixel areas: centre (u + 0.5) * 2 - 0.5 + offset in OpenCV's convention)."""
    d = LENSES["plumb_bob"]
    k2 = tuple((K * np.array([[2.0], [2.0], [1.0]])).ravel())          # the lens on a 1280x960 sensor
    full = CameraModel.checked(width=1280, height=960, distortion_model="plumb_bob", d=d, k=k2, r=EYE, p=P0)
    binned = CameraModel.checked(width=1280, height=960, distortion_model="plumb_bob", d=d, k=k2,
                                 r=EYE, p=P0, binning_x=2, binning_y=2, roi=(200, 100, 800, 600))
    assert binned.image_size() == (400, 300) and full.image_size() == (1280, 960)
    for u, v in ((10.25, 20.5), (200.0, 150.0), (390.0, 290.0)):
        assert _angle_deg(binned.ray(u, v), full.ray(2 * u + 200, 2 * v + 100)) < 1e-9


def test_a_point_where_the_lens_folds_is_refused():
    """Far outside the calibrated field, a strong barrel distortion maps no undistorted point there:
    a clear error rather than a wrong direction."""
    cam = CameraModel.checked(width=640, height=480, distortion_model="plumb_bob", d=LENSES["plumb_bob"],
                              k=tuple(K.ravel()), r=EYE, p=P0)
    with pytest.raises(CameraModelError, match="did not converge"):
        cam.ray(K[0, 2] + 2.5 * K[0, 0], K[1, 2] + 2.0 * K[1, 1])


def test_rectified_images_use_p_and_rotate_back_with_r():
    """A rectified image (P, R of a stereo rig's rotated camera): the ray of P's pixel, rotated by R^T,
    is the optical-frame direction that R maps onto the rectified one."""
    angle = math.radians(3.0)
    r = np.array([[math.cos(angle), 0, math.sin(angle)], [0, 1, 0], [-math.sin(angle), 0, math.cos(angle)]])
    p = np.array([[580.0, 0, 320.0, 0], [0, 580.0, 240.0, 0], [0, 0, 1, 0]])
    cam = CameraModel.checked(width=640, height=480, distortion_model="plumb_bob", d=LENSES["plumb_bob"],
                              k=tuple(K.ravel()), r=tuple(r.ravel()), p=tuple(p.ravel()), rectified=True)
    for ray in _directions(50, seed=3):
        rect = r @ ray
        u, v = p[0, 0] * rect[0] / rect[2] + p[0, 2], p[1, 1] * rect[1] / rect[2] + p[1, 2]
        assert _angle_deg(cam.ray(u + 0.5, v + 0.5), ray) < 1e-6


@pytest.mark.parametrize("fields,message", [
    ({"k": (0.0,) * 9}, "not calibrated"),
    ({"k": (600.0, 0, 320, 0, float("nan"), 240, 0, 0, 1)}, "9 finite"),
    ({"distortion_model": "kannala_brandt"}, "not supported"),
    ({"d": (0.1, 0.0)}, "takes 5 coefficients"),
    ({"d": (float("nan"), 0, 0, 0, 0)}, "NaN"),
    ({"width": 0}, "empty"),
])
def test_unusable_calibrations_say_why(fields, message):
    base = dict(width=640, height=480, distortion_model="plumb_bob", d=(0.0,) * 5, k=tuple(K.ravel()), r=EYE, p=P0)
    with pytest.raises(CameraModelError, match=message):
        CameraModel.checked(**{**base, **fields})
