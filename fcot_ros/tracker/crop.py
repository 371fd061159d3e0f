"""Search-region crops: a square image region of side ``crop_size * scale`` pixels centred at
``centre`` resampled to ``crop_size`` x ``crop_size`` with replicated borders.

Mapping (x and y alike): image = centre + (crop - (crop_size - 1) / 2) * scale, where
``scale`` is image pixels per crop pixel. Boxes are (x, y, w, h).
"""
import cv2
import numpy as np


def crop_to_image(box_crop, centre, scale, crop_size):
    """(x, y, w, h) in crop pixels -> image pixels."""
    half = (crop_size - 1) / 2.0
    x, y, w, h = box_crop
    return ((x - half) * scale + centre[0], (y - half) * scale + centre[1], w * scale, h * scale)


def image_to_crop(box_img, centre, scale, crop_size):
    """(x, y, w, h) in image pixels -> crop pixels."""
    half = (crop_size - 1) / 2.0
    x, y, w, h = box_img
    return ((x - centre[0]) / scale + half, (y - centre[1]) / scale + half, w / scale, h / scale)


def extract_crop(image, centre, scale, crop_size, out=None):
    """HxWx3 uint8 image -> (crop_size, crop_size, 3) uint8 crop (see module doc).

    For strong downscaling (scale >= 2) the image is first shrunk by an integer factor with
    area averaging, which avoids aliasing as the authors' strided subsampling intends.
    """
    cx, cy = float(centre[0]), float(centre[1])
    factor = int(scale // 2) if scale >= 2 else 1
    if factor > 1:
        h, w = image.shape[:2]
        image = cv2.resize(image, (max(w // factor, 1), max(h // factor, 1)), interpolation=cv2.INTER_AREA)
        # pixel centres: small pixel j covers big pixels [j*f, (j+1)*f) -> centre j*f + (f-1)/2
        cx, cy = (cx - (factor - 1) / 2.0) / factor, (cy - (factor - 1) / 2.0) / factor
        scale = scale / factor
    half = (crop_size - 1) / 2.0
    # crop p -> image (p - half) * scale + c ; warpAffine needs the inverse map given with WARP_INVERSE_MAP
    matrix = np.array([[scale, 0.0, cx - half * scale], [0.0, scale, cy - half * scale]], dtype=np.float64)
    return cv2.warpAffine(image, matrix, (crop_size, crop_size), dst=out,
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
