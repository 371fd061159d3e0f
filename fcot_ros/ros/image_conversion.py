"""sensor_msgs/Image <-> numpy without cv_bridge (there is no usable cv_bridge wheel).

``image_to_bgr`` honours ``step`` (row padding) and converts the supported encodings to the HxWx3
uint8 BGR array the tracker takes; anything else raises ``ImageConversionError`` with a message the
node logs as a refusal. The decoding itself lives in ``fcot_ros.image_msgs`` (shared with the
rosbag2 dataset reader); this module adds ``fill_image`` (numpy -> message).
"""
import array

import numpy as np

from fcot_ros.image_msgs import ENCODINGS, ImageConversionError, check_image_msg, compressed_to_bgr, image_to_bgr  # noqa: F401


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
