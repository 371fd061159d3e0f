"""The tracker contract (fcot_ros.contract.Tracker): every registered model's tracker implements it
explicitly and keeps it on a real initialize/track of a real sequence; the baselines depend on the
contract, not on the FCOT tracker package."""
import ast
import math
from pathlib import Path

import pytest

from fcot_ros import build_tracker
from fcot_ros.assembly.registry import MODEL_NAMES
from fcot_ros.baselines.opencv_trackers import NANO_FILES
from fcot_ros.checkpoints import save_model
from fcot_ros.contract import STATES, TRACKER_STAGES, Tracker, TrackResult
from fcot_ros.contract.size_policy import SizeChangePolicy
from fcot_ros.models.fcot_model import build_model

REPO = Path(__file__).resolve().parents[2]
NANO_DIR = REPO.parent / "shared" / "baselines" / "nanotrack"


def _build(name, tmp_path_factory):
    """A tracker of every registered model, small where it can be (this test checks the contract,
    not accuracy): fcot_r50 from a random-init checkpoint at a 128 px crop, no shipped weights exist."""
    if name == "fcot_r50":
        path = tmp_path_factory.mktemp("r50") / "fcot_r50_random.pt"
        save_model(path, build_model("fcot_r50", imagenet_backbone=False))
        return build_tracker(model=name, backend="torch", weights=str(path), crop_size=128)
    if name == "opencv_nano":
        if not all((NANO_DIR / f).is_file() for f in NANO_FILES):
            pytest.skip(f"NanoTrack v2 files not found in {NANO_DIR}")
        return build_tracker(model=name, weights=str(NANO_DIR))
    if name.startswith("fcot"):
        return build_tracker(model=name, backend="torch")
    return build_tracker(model=name)


def _check_result(result, image):
    assert isinstance(result, TrackResult)
    assert len(result.box) == 4 and all(isinstance(v, float) and math.isfinite(v) for v in result.box)
    x, y, w, h = result.box
    assert w > 0 and h > 0 and x < image.shape[1] and y < image.shape[0]
    assert isinstance(result.score, float) and math.isfinite(result.score)
    assert result.state in STATES
    assert set(result.timings) <= set(TRACKER_STAGES) | {"total"}, result.timings
    assert all(isinstance(v, float) and v >= 0.0 for v in result.timings.values())


@pytest.mark.slow
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_registered_tracker_keeps_the_contract(name, load_sequence, tmp_path_factory):
    tracker = _build(name, tmp_path_factory)
    assert isinstance(tracker, Tracker)
    assert Tracker in type(tracker).__mro__, "implemented explicitly (subclass of the Protocol)"
    assert tracker.model_name == name
    assert isinstance(tracker.backend_name, str) and tracker.backend_name
    assert isinstance(tracker.can_rescale, bool) and isinstance(tracker.uses_torch_threads, bool)
    seq = load_sequence("otb_Car4")
    tracker.initialize(seq.image(0), seq.groundtruth[0])
    for i in (1, 2):
        _check_result(tracker.track(seq.image(i)), seq.image(i))
    assert tracker.lost_reason is None
    if not tracker.can_rescale:
        with pytest.raises(NotImplementedError):
            tracker.rescale((10, 10))
    wrapped = SizeChangePolicy(tracker, "lost")             # the wrapper keeps the contract too
    assert isinstance(wrapped, Tracker) and wrapped.model_name == name
    wrapped.initialize(seq.image(2), seq.groundtruth[2])
    _check_result(wrapped.track(seq.image(3)), seq.image(3))


def test_capabilities_say_what_the_node_needs():
    """The node decides torch threads and the rescale policy from these, not from the registry."""
    from fcot_ros.baselines.opencv_trackers import OpenCVTracker
    from fcot_ros.tracker.fcot_tracker import FCOTTracker
    assert FCOTTracker.can_rescale and FCOTTracker.uses_torch_threads
    assert not OpenCVTracker.can_rescale and not OpenCVTracker.uses_torch_threads


def _imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names)


def test_baselines_and_contract_do_not_reach_into_the_fcot_tracker():
    for folder, banned in (("baselines", ("fcot_ros.tracker", "fcot_ros.models")),
                           ("contract", ("fcot_ros.tracker", "fcot_ros.models", "fcot_ros.baselines",
                                         "fcot_ros.assembly", "fcot_ros.ros"))):
        for path in sorted((REPO / "fcot_ros" / folder).glob("*.py")):
            bad = [m for m in _imports(path) if m.startswith(banned)]
            assert not bad, f"{path.name} imports {bad}"
