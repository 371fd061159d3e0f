"""The shipped fcot_lite weights against their model card: the card describes the file that ships,
and the default tracker reproduces the card's validation AUC on a short validation sequence."""
import hashlib
import json

import pytest

from fcot_ros import build_tracker
from fcot_ros.assembly.registry import WEIGHTS_DIR
from fcot_ros.evaluation.datasets import load_dataset
from fcot_ros.evaluation.metrics import score_sequence
from fcot_ros.evaluation.runner import run_sequence
from training.data.sources.folder import video_of
from training.data.splits import read_split
from training.config import resolve_path

CARD = WEIGHTS_DIR / "fcot_lite.json"
WEIGHTS = WEIGHTS_DIR / "fcot_lite.pt"
# otb_Boy (72 frames, a validation sequence): short, and one on which the tracker is steady under
# float rounding (ONNX Runtime and PyTorch boxes agree to IoU 0.998 there), so another CPU's rounding
# moves its AUC by far less than the tolerance. Measured on this machine: 0.865 / 0.866 with the shipped
# weights (the card's figure of 2026-12-01 / 2026-12-04; re-detection does not act on otb_Boy), 0.833
# training-free, 0.872 with stage B's epoch-1 checkpoint: a wrong or stale weights file or a changed
# preset falls outside the card's figure +- 0.015.
SEQUENCE = "otb_Boy"
AUC_TOLERANCE = 0.015


@pytest.fixture(scope="module")
def card():
    assert CARD.is_file(), f"the model card {CARD} is missing"
    return json.loads(CARD.read_text())


def test_card_describes_the_shipped_file(card):
    assert card["model"] == "fcot_lite"
    assert card["weights"]["file"] == WEIGHTS.name
    assert card["weights"]["sha256"] == hashlib.sha256(WEIGHTS.read_bytes()).hexdigest(), \
        "fcot_lite.pt changed without its model card (python -m training.model_card)"
    assert card["weights"]["bytes"] == WEIGHTS.stat().st_size
    # every sequence the card scores belongs to a validation video of the split it names
    videos = read_split(resolve_path(card["validation"]["split_file"]))
    assert sorted(videos) == card["validation"]["videos"]
    assert all(video_of(name) in videos for name in card["validation"]["per_sequence_auc"])
    # and every source of the training data has its licence on record
    assert card["data"] and all(d["licences"] for d in card["data"])


def test_default_tracker_reproduces_the_validation_auc(card, shared_data):
    shipped = card["validation"]["shipped"]
    per_sequence = card["validation"]["per_sequence_auc"]
    assert SEQUENCE in per_sequence, f"the model card scores no {SEQUENCE}"
    found = [seq for root in ("sequences", "train") for seq in load_dataset("folder", shared_data / root)
             if seq.name == SEQUENCE]
    assert found, f"{SEQUENCE} not found under {shared_data}"
    sequence = found[0]
    tracker = build_tracker(model="fcot_lite", backend=shipped["backend"], preset=shipped["preset"])
    run = run_sequence(tracker, sequence)
    auc = score_sequence(run.boxes, sequence.ground_truth, name=sequence.name).auc
    expected = per_sequence[sequence.name]
    assert abs(auc - expected) <= AUC_TOLERANCE, \
        f"{sequence.name}: AUC {auc:.3f}, the model card reports {expected:.3f} (tolerance {AUC_TOLERANCE})"
