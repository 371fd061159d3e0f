"""Camera calibration files as ROS writes them (camera_calibration / camera_info_manager YAML: image_width,
image_height, camera_name, camera_matrix, distortion_model, distortion_coefficients,
rectification_matrix, projection_matrix) read into sensor_msgs/CameraInfo, and written from numbers.

    from fcot_ros.tools.ros.calibration import read_calibration, write_calibration
"""
from pathlib import Path

import yaml

from fcot_ros.errors import ConfigurationError

_MATRICES = {"camera_matrix": 9, "rectification_matrix": 9, "projection_matrix": 12}


def _data(doc: dict, key: str, path, size=None) -> list:
    entry = doc.get(key)
    if not isinstance(entry, dict) or not isinstance(entry.get("data"), list):
        raise ConfigurationError(f"{path}: '{key}' must be a mapping with a 'data' list")
    data = [float(v) for v in entry["data"]]
    if size is not None and len(data) != size:
        raise ConfigurationError(f"{path}: '{key}' holds {len(data)} numbers, not {size}")
    return data


def read_calibration(path):
    """sensor_msgs/CameraInfo (header left empty) of the calibration YAML at ``path``; a missing file,
    bad YAML or a missing or wrongly sized field raises ConfigurationError naming the file and field."""
    from sensor_msgs.msg import CameraInfo
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise ConfigurationError(f"cannot read camera calibration {path}: {e}") from e
    if not isinstance(doc, dict):
        raise ConfigurationError(f"{path}: not a camera calibration (a YAML mapping)")
    try:
        width, height = int(doc["image_width"]), int(doc["image_height"])
    except (KeyError, TypeError, ValueError) as e:
        raise ConfigurationError(f"{path}: image_width and image_height must be integers") from e
    info = CameraInfo(width=width, height=height, distortion_model=str(doc.get("distortion_model", "")))
    info.k = _data(doc, "camera_matrix", path, 9)
    info.d = _data(doc, "distortion_coefficients", path)
    info.r = _data(doc, "rectification_matrix", path, 9)
    info.p = _data(doc, "projection_matrix", path, 12)
    return info


def write_calibration(path, width: int, height: int, k, d, distortion_model: str = "plumb_bob",
                      r=(1, 0, 0, 0, 1, 0, 0, 0, 1), p=None, camera_name: str = "camera"):
    """Write a calibration YAML (``k`` 9 numbers row-major, ``d`` the model's coefficients; P defaults
    to [K | 0]); returns ``path``."""
    k = [float(v) for v in k]
    p = [float(v) for v in p] if p is not None else k[0:3] + [0.0] + k[3:6] + [0.0] + k[6:9] + [0.0]
    doc = {"image_width": int(width), "image_height": int(height), "camera_name": camera_name,
           "camera_matrix": {"rows": 3, "cols": 3, "data": k},
           "distortion_model": distortion_model,
           "distortion_coefficients": {"rows": 1, "cols": len(d), "data": [float(v) for v in d]},
           "rectification_matrix": {"rows": 3, "cols": 3, "data": [float(v) for v in r]},
           "projection_matrix": {"rows": 3, "cols": 4, "data": p}}
    Path(path).write_text(yaml.safe_dump(doc, sort_keys=False))
    return path
