"""Parts of the ROS layer that need no running ROS graph: image conversion, frame buffers, stats."""
import array

import cv2
import numpy as np
import pytest

from fcot_ros.ros.buffers import LatestSlot, StampRing
from fcot_ros.ros.image_conversion import (
    ImageConversionError,
    check_image_msg,
    compressed_to_bgr,
    fill_image,
    image_to_bgr,
)
from fcot_ros.ros.stats import RateLatency, percentiles

pytestmark = pytest.mark.no_ros


class FakeImage:
    """The fields of sensor_msgs/Image that the conversion reads (no rclpy needed)."""

    def __init__(self, **kw):
        self.height = self.width = self.step = 0
        self.encoding = ""
        self.is_bigendian = 0
        self.data = b""
        self.__dict__.update(kw)


class FakeCompressed:
    def __init__(self, data, fmt="jpeg"):
        self.data, self.format = data, fmt


@pytest.fixture
def bgr():
    rng = np.random.default_rng(1)
    return rng.integers(0, 256, size=(7, 5, 3), dtype=np.uint8)


@pytest.mark.parametrize("encoding,to_msg", [
    ("bgr8", lambda im: im),
    ("rgb8", lambda im: im[..., ::-1]),
    ("bgra8", lambda im: cv2.cvtColor(im, cv2.COLOR_BGR2BGRA)),
    ("rgba8", lambda im: cv2.cvtColor(im, cv2.COLOR_BGR2RGBA)),
])
def test_color_encodings_round_trip(bgr, encoding, to_msg):
    msg = fill_image(FakeImage(), to_msg(bgr), encoding)
    assert isinstance(msg.data, array.array) and msg.step * 7 == len(msg.data)
    out = image_to_bgr(msg)
    assert out.shape == (7, 5, 3) and out.dtype == np.uint8 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, bgr)


def test_mono8_becomes_three_equal_channels(bgr):
    gray = bgr[..., 0].copy()
    out = image_to_bgr(fill_image(FakeImage(), gray, "mono8"))
    assert out.shape == (7, 5, 3)
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], gray)


@pytest.mark.parametrize("encoding,channels", [("bgr8", 3), ("mono8", 1), ("rgba8", 4)])
def test_padded_rows_honour_step(bgr, encoding, channels):
    h, w = 7, 5
    step = w * channels + 11                       # padding at the end of every row
    padded = np.full((h, step), 255, np.uint8)
    src = bgr if channels == 3 else (bgr[..., 0] if channels == 1 else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGBA))
    padded[:, :w * channels] = src.reshape(h, w * channels)
    msg = FakeImage(height=h, width=w, step=step, encoding=encoding, data=padded.tobytes())
    out = image_to_bgr(msg)
    expected = image_to_bgr(fill_image(FakeImage(), src, encoding))
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("change,words", [
    (dict(encoding="yuv422"), "unsupported encoding"),
    (dict(encoding="16UC1"), "unsupported encoding"),
    (dict(step=14), "smaller than width*channels"),
    (dict(step=16), "expected step*height"),
    (dict(data=b"\0" * 10), "expected step*height"),
    (dict(height=0), "empty image"),
])
def test_bad_messages_are_refused(bgr, change, words):
    msg = fill_image(FakeImage(), bgr, "bgr8")
    msg.__dict__.update(change)
    with pytest.raises(ImageConversionError, match=None) as err:
        check_image_msg(msg)
    assert words in str(err.value)
    with pytest.raises(ImageConversionError):
        image_to_bgr(msg)


def test_compressed_decode_and_refusal(bgr):
    ok, jpg = cv2.imencode(".png", bgr)
    out = compressed_to_bgr(FakeCompressed(array.array("B", jpg.tobytes()), "png"))
    np.testing.assert_array_equal(out, bgr)
    with pytest.raises(ImageConversionError):
        compressed_to_bgr(FakeCompressed(array.array("B", b"not an image")))
    with pytest.raises(ImageConversionError):
        compressed_to_bgr(FakeCompressed(array.array("B")))


def test_latest_slot_drops_and_counts():
    slot = LatestSlot()
    assert slot.put(1) is False
    assert slot.put(2) is True and slot.put(3) is True
    assert slot.dropped == 2
    assert slot.take(0.01) == 3
    assert slot.take(0.01) is None
    slot.put(4, count_drop=False)
    slot.put(5, count_drop=False)
    assert slot.dropped == 2 and slot.take(0) == 5
    slot.close()
    assert slot.take(1.0) is None


def test_stamp_ring_bounded_lookup():
    ring = StampRing(3)
    for s in (10, 20, 30, 40):
        ring.add(s, f"f{s}")
    assert len(ring) == 3
    assert ring.latest() == (40, "f40")
    assert ring.find(10) is None                    # evicted
    assert ring.find(20) == (20, "f20")
    assert ring.find(24) is None
    assert ring.find(24, tolerance_ns=5) == (20, "f20")
    assert ring.find(26, tolerance_ns=5) == (30, "f30")
    assert ring.span() == (20, 40)
    ring.clear()
    assert ring.latest() is None and ring.span() is None
    with pytest.raises(ValueError):
        StampRing(0)


def test_rate_and_latency_window():
    st = RateLatency(window_s=1.0)
    for i in range(11):
        st.add(latency_ms=float(i), now=100.0 + i * 0.1)
    assert st.rate(now=101.0) == pytest.approx(10.0)
    med, p99, mx = st.latency(now=101.0)
    assert med == pytest.approx(5.0) and mx == 10.0
    assert st.rate(now=105.0) == 0.0
    assert all(np.isnan(v) for v in percentiles([]))


def test_conversion_errors_name_their_kind(bgr):
    """The node limits its refusal log per kind; the kind carries no numbers of the message."""
    kinds = {}
    for change in (dict(encoding="yuv422"), dict(step=14), dict(data=b"\0" * 10), dict(data=b"\0" * 11),
                   dict(height=0)):
        msg = fill_image(FakeImage(), bgr, "bgr8")
        msg.__dict__.update(change)
        with pytest.raises(ImageConversionError) as err:
            check_image_msg(msg)
        kinds[str(err.value)] = err.value.kind
    assert sorted(set(kinds.values())) == ["empty", "encoding", "size", "step"]
    assert len(kinds) == 5                          # two different messages of kind "size"
    with pytest.raises(ImageConversionError) as err:
        compressed_to_bgr(FakeCompressed(array.array("B", b"not an image")))
    assert err.value.kind == "decode"


@pytest.mark.parametrize("background", [0, 32, 255])
@pytest.mark.parametrize("state", ["tracking", "lost", "idle"])
def test_overlay_status_text_is_readable(background, state):
    """The status line is drawn on a filled box (readable with OpenCV 5's text widths): the box
    differs from the frame, and the text inside it differs from the box."""
    from fcot_ros.ros.overlay import COLORS, TEXT_BACKGROUND, draw_overlay, status_box
    frame = np.full((120, 200, 3), background, np.uint8)
    out = draw_overlay(frame, (60, 50, 40, 30), state, 0.87, "31 ms")
    x0, y0, x1, y1 = status_box(f"{state} 0.87 31 ms")
    region = out[y0:y1, x0:x1].reshape(-1, 3)
    fill = np.all(region == TEXT_BACKGROUND, axis=1)
    assert 0.3 < fill.mean() < 0.98, "a filled box with text on it"
    text = region[~fill].astype(int)
    assert np.abs(text - np.array(TEXT_BACKGROUND)).sum(axis=1).max() > 150, "text contrasts with the box"
    assert np.any(np.all(np.abs(text - np.array(COLORS[state])) < 40, axis=1)), "text in the state colour"
    assert np.any(out[y0:y1, x0:x1] != frame[y0:y1, x0:x1])
    np.testing.assert_array_equal(out[y1 + 2:45, :], frame[y1 + 2:45, :])    # nothing else drawn above the box


def test_fill_image_makes_one_array_copy(bgr):
    msg = fill_image(FakeImage(), bgr, "bgr8")
    assert isinstance(msg.data, array.array) and msg.data.typecode == "B"
    assert msg.data.tobytes() == bgr.tobytes()
    padded = np.zeros((7, 8, 3), np.uint8)[:, :5]               # not contiguous: copied first
    assert len(fill_image(FakeImage(), padded, "bgr8").data) == 7 * 5 * 3
