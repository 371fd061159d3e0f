"""Debug overlay: the tracked box, state and confidence drawn on a copy of the frame (no rclpy)."""
import cv2

COLORS = {"tracking": (0, 220, 0), "uncertain": (0, 200, 255), "lost": (0, 0, 255), "idle": (200, 200, 200)}


def draw_overlay(image, box, state: str, confidence: float, extra: str = ""):
    """Return a BGR copy of ``image`` with ``box`` (x, y, w, h) and a status line."""
    out = image.copy()
    color = COLORS.get(state, (255, 255, 255))
    if box is not None:
        x, y, w, h = box
        cv2.rectangle(out, (int(round(x)), int(round(y))), (int(round(x + w)), int(round(y + h))),
                      color, 2)
    text = f"{state} {confidence:.2f} {extra}".strip()
    cv2.putText(out, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(out, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, color, 1, cv2.LINE_AA)
    return out
