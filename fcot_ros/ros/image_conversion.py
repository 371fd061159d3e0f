"""sensor_msgs/Image <-> numpy without cv_bridge (there is no usable cv_bridge wheel).

``image_to_bgr`` honours ``step`` (row padding) and converts the supported encodings to the HxWx3
uint8 BGR array the tracker takes; anything else raises ``ImageConversionError`` with a message the
node logs as a refusal.
"""
import array

import cv2
import numpy as np

from fcot_ros.errors import FCOTError

# encoding -> (channels, cv2 conversion to BGR or None)
ENCODINGS = {
    "bgr8": (3, None),
    "rgb8": (3, cv2.COLOR_RGB2BGR),
    "mono8": (1, cv2.COLOR_GRAY2BGR),
    "bgra8": (4, cv2.COLOR_BGRA2BGR),
    "rgba8": (4, cv2.COLOR_RGBA2BGR),
}


class ImageConversionError(FCOTError, ValueError):
    """The message cannot be turned into an image (unknown encoding, inconsistent sizes).

    ``kind`` names the reason without the message's numbers ("encoding", "empty", "step", "size",
    "decode"): the node limits its refusal log per kind, not per exact message.
    """

    def __init__(self, message: str, kind: str = "other"):
        super().__init__(message)
        self.kind = kind


def check_image_msg(msg):
    """Raise ImageConversionError unless ``msg`` can be converted; returns (h, w, channels, step).

    Cheap (no copy): the node runs it on every incoming frame to refuse bad ones at once.
    """
    enc = msg.encoding.lower()
    if enc not in ENCODINGS:
        raise ImageConversionError(
            f"unsupported encoding {msg.encoding!r} (supported: {', '.join(ENCODINGS)})", "encoding")
    channels = ENCODINGS[enc][0]
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    if h <= 0 or w <= 0:
        raise ImageConversionError(f"empty image ({w}x{h})", "empty")
    row = w * channels
    if step < row:
        raise ImageConversionError(f"step {step} is smaller than width*channels = {row} ({msg.encoding})",
                                   "step")
    size = len(msg.data)
    if size != step * h:
        raise ImageConversionError(f"data has {size} bytes, expected step*height = {step}*{h} = {step * h}",
                                   "size")
    return h, w, channels, step


def image_to_bgr(msg) -> np.ndarray:
    """Return the image of a sensor_msgs/Image as a contiguous HxWx3 uint8 BGR array.

    Rows may be padded (step > width*channels); 8-bit encodings only, so is_bigendian does not matter.
    """
    h, w, channels, step = check_image_msg(msg)
    conversion = ENCODINGS[msg.encoding.lower()][1]
    data = msg.data
    buf = data.view(np.uint8) if isinstance(data, np.ndarray) else np.frombuffer(data, dtype=np.uint8)
    img = buf.reshape(h, step)[:, :w * channels].reshape(h, w, channels)
    if conversion is None:
        return np.ascontiguousarray(img)
    return cv2.cvtColor(img, conversion)


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


def fill_image(msg, image: np.ndarray, encoding: str = "bgr8"):
    """Fill a sensor_msgs/Image ``msg`` from an HxWx3 (or HxW for mono8) uint8 array; returns msg."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    msg.height, msg.width = int(image.shape[0]), int(image.shape[1])
    msg.encoding = encoding
    msg.is_bigendian = 0
    msg.step = int(image.strides[0])
    # an array.array is taken as is; a bytes/list value would be checked element by element (slow).
    # frombytes on the array's own buffer: one copy (array.array("B", image.tobytes()) makes two)
    data = array.array("B")
    data.frombytes(memoryview(image).cast("B"))
    msg.data = data
    return msg
