"""sensor_msgs/Image and CompressedImage fields -> HxWx3 uint8 BGR arrays, without ROS.

The one home of raw image decoding (encoding, ``step`` row padding, ``is_bigendian``): the ROS node
(``fcot_ros.ros.image_conversion``, rclpy messages) and the rosbag2 reader (``fcot_ros.datasets.rosbag``,
messages deserialised by the ``rosbags`` package) both call it. ``msg`` is any object with the fields
height, width, step, encoding, is_bigendian and data (bytes, array.array or a uint8 numpy array).
"""
import cv2
import numpy as np

from fcot_ros.errors import FCOTError

# encoding -> (channels, bytes per channel, cv2 conversion to BGR or None)
ENCODINGS = {
    "bgr8": (3, 1, None),
    "rgb8": (3, 1, cv2.COLOR_RGB2BGR),
    "mono8": (1, 1, cv2.COLOR_GRAY2BGR),
    "bgra8": (4, 1, cv2.COLOR_BGRA2BGR),
    "rgba8": (4, 1, cv2.COLOR_RGBA2BGR),
}
# accepted only with wide=True (recordings): grey 8 bit under its OpenCV name, and 16-bit grey
# (the high byte is kept: value >> 8)
WIDE_ENCODINGS = {
    "8uc1": (1, 1, cv2.COLOR_GRAY2BGR),
    "mono16": (1, 2, cv2.COLOR_GRAY2BGR),
    "16uc1": (1, 2, cv2.COLOR_GRAY2BGR),
}


class ImageConversionError(FCOTError, ValueError):
    """The message cannot be turned into an image (unknown encoding, inconsistent sizes).

    ``kind`` names the reason without the message's numbers ("encoding", "empty", "step", "size",
    "decode"): the node limits its refusal log per kind, not per exact message.
    """

    def __init__(self, message: str, kind: str = "other"):
        super().__init__(message)
        self.kind = kind


def _table(wide: bool) -> dict:
    return {**ENCODINGS, **WIDE_ENCODINGS} if wide else ENCODINGS


def check_image_msg(msg, wide: bool = False, exact_size: bool = True):
    """Raise ImageConversionError unless ``msg`` can be converted; returns (h, w, channels, step).

    Cheap (no copy): the node runs it on every incoming frame to refuse bad ones at once.
    wide: also accept 8UC1, mono16 and 16UC1. exact_size: data must be exactly step * height
    bytes (the node); else at least that many (recordings; trailing bytes are ignored).
    """
    table = _table(wide)
    enc = msg.encoding.lower()
    if enc not in table:
        raise ImageConversionError(
            f"unsupported encoding {msg.encoding!r} (supported: {', '.join(table)})", "encoding")
    channels, depth, _ = table[enc]
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    if h <= 0 or w <= 0:
        raise ImageConversionError(f"empty image ({w}x{h})", "empty")
    row = w * channels * depth
    if step < row:
        raise ImageConversionError(f"step {step} is smaller than width*channels = {row} ({msg.encoding})",
                                   "step")
    size = len(msg.data)
    if size != step * h if exact_size else size < step * h:
        raise ImageConversionError(f"data has {size} bytes, expected step*height = {step}*{h} = {step * h}",
                                   "size")
    return h, w, channels, step


def image_to_bgr(msg, wide: bool = False, exact_size: bool = True) -> np.ndarray:
    """The image of a sensor_msgs/Image as a contiguous HxWx3 uint8 BGR array.

    Rows may be padded (step > width*channels*bytes). 16-bit grey honours is_bigendian and keeps
    the high byte. ``wide`` / ``exact_size`` as in ``check_image_msg`` (defaults: the node's rules).
    """
    h, w, channels, step = check_image_msg(msg, wide, exact_size)
    _, depth, conversion = _table(wide)[msg.encoding.lower()]
    data = msg.data
    buf = data.view(np.uint8).reshape(-1) if isinstance(data, np.ndarray) else np.frombuffer(data, dtype=np.uint8)
    rows = buf[:h * step].reshape(h, step)[:, :w * channels * depth]
    if depth == 2:
        pixels = rows.copy().view(">u2" if msg.is_bigendian else "<u2").reshape(h, w)
        img = (pixels >> 8).astype(np.uint8)
    else:
        img = rows.reshape(h, w, channels)
    if conversion is None:
        return np.ascontiguousarray(img)
    return cv2.cvtColor(np.ascontiguousarray(img) if depth == 2 else img, conversion)


def compressed_to_bgr(msg) -> np.ndarray:
    """Decode a sensor_msgs/CompressedImage (jpeg, png, ...) to HxWx3 uint8 BGR."""
    data = msg.data
    # array.array / bytes / numpy: read in place through the buffer protocol (no copy)
    buf = data.view(np.uint8).reshape(-1) if isinstance(data, np.ndarray) else np.frombuffer(data, dtype=np.uint8)
    if buf.size == 0:
        raise ImageConversionError("empty compressed image", "empty")
    img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if img is None:
        raise ImageConversionError(f"cannot decode compressed image (format {msg.format!r})", "decode")
    return img
