"""Debug overlay: the tracked box, state and confidence drawn on a copy of the frame (no rclpy).

The status line sits on a filled dark box sized with cv2.getTextSize, so it reads on any
background and with any OpenCV version (OpenCV 5 renders text with other widths than 4.x, which
made the old black-outline-under-coloured-text trick unreadable).
"""
import cv2

COLORS = {"tracking": (0, 220, 0), "uncertain": (0, 200, 255), "lost": (0, 0, 255), "idle": (200, 200, 200)}
TEXT_ORIGIN = (6, 6)            # top-left corner of the status box
TEXT_BACKGROUND = (32, 32, 32)
_FONT, _SCALE, _THICKNESS, _PAD = cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1, 4


def status_box(text: str, origin=TEXT_ORIGIN):
    """(x0, y0, x1, y1) of the filled box the status ``text`` is drawn on (exclusive x1, y1)."""
    (tw, th), baseline = cv2.getTextSize(text, _FONT, _SCALE, _THICKNESS)
    x0, y0 = origin
    return x0, y0, x0 + tw + 2 * _PAD, y0 + th + baseline + 2 * _PAD


def draw_overlay(image, box, state: str, confidence: float, extra: str = ""):
    """Return a BGR copy of ``image`` with ``box`` (x, y, w, h) and a status line."""
    out = image.copy()
    color = COLORS.get(state, (255, 255, 255))
    if box is not None:
        x, y, w, h = box
        cv2.rectangle(out, (int(round(x)), int(round(y))), (int(round(x + w)), int(round(y + h))),
                      color, 2)
    text = f"{state} {confidence:.2f} {extra}".strip()
    x0, y0, x1, y1 = status_box(text)
    h, w = out.shape[:2]
    cv2.rectangle(out, (x0, y0), (min(x1, w) - 1, min(y1, h) - 1), TEXT_BACKGROUND, cv2.FILLED)
    (_, th), baseline = cv2.getTextSize(text, _FONT, _SCALE, _THICKNESS)
    cv2.putText(out, text, (x0 + _PAD, y0 + _PAD + th), _FONT, _SCALE, color, _THICKNESS, cv2.LINE_AA)
    return out
