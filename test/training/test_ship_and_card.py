"""training.ship and training.model_card on the real shipped file and the real data roots: shipping a
checkpoint keeps every tensor and drops the frozen backbone; the model card's figures and hashes are
those of the files it is given, restarts are left out of the per-sequence table, every data source has
its licence, and a bench without the named tracker is a clear error (exit status 2)."""
import json
from pathlib import Path

import torch

from fcot_ros.assembly import load_model
from fcot_ros.assembly.registry import WEIGHTS_DIR
from fcot_ros.checkpoints.native import load_checkpoint
from fcot_ros.runtime.digests import file_sha256
from training import model_card
from training.ship import ship

SHIPPED = WEIGHTS_DIR / "fcot_lite.pt"
SPLIT = Path(__file__).resolve().parents[2] / "training" / "splits" / "fcot_lite_val.txt"


def test_ship_keeps_every_tensor_and_drops_the_frozen_backbone(tmp_path):
    out = ship(SHIPPED, tmp_path / "again.pt", note="test")
    state, meta = load_checkpoint(out)
    assert state and not [k for k in state if k.startswith("backbone.")]
    assert meta["source_checkpoint"] == SHIPPED.name and meta["note"] == "test"
    assert meta["omitted_prefixes"] == ["backbone."]
    a, b = load_model("fcot_lite", SHIPPED).state_dict(), load_model("fcot_lite", out).state_dict()
    assert sorted(a) == sorted(b)
    assert all(torch.equal(a[k], b[k]) for k in a), "ship changed a tensor"


def _bench(path, rows):
    path.write_text(json.dumps({"command": "python -m training.validate ...", "rows": rows}))
    return path


def test_model_card_describes_the_files_it_is_given(tmp_path, shared_data, capsys):
    bench = _bench(tmp_path / "bench.json", [
        {"label": "default", "model": "fcot_lite", "preset": "default", "backend": "onnxruntime", "fps": 20.0,
         "summary": {"auc": 0.6, "precision": 0.8, "norm_precision": 0.7, "sequences": 2, "frames": 100},
         "per_sequence_auc": {"otb_Boy": 0.8664, "otb_Boy~r1": 0.85, "otb_Singer1": 0.8342}},
        {"label": "opencv_csrt", "model": "opencv_csrt", "preset": "default", "backend": "opencv",
         "summary": {"auc": 0.5}, "per_sequence_auc": {"otb_Boy": 0.7}},
    ])
    out = tmp_path / "card.json"
    roots = [str(shared_data / "sequences"), str(shared_data / "train")]
    argv = ["--weights", str(SHIPPED), "--bench", str(bench), "--shipped", "default", "--split", str(SPLIT),
            "--roots", *roots, "--out", str(out)]
    assert model_card.main(argv) == 0
    assert "2 trackers, 2 sequences" in capsys.readouterr().out
    card = json.loads(out.read_text())
    assert card["weights"]["sha256"] == file_sha256(SHIPPED) and card["weights"]["bytes"] == SHIPPED.stat().st_size
    assert card["validation"]["per_sequence_auc"] == {"otb_Boy": 0.8664, "otb_Singer1": 0.8342}   # no restarts
    assert card["validation"]["shipped"] == {"label": "default", "preset": "default", "backend": "onnxruntime"}
    assert [r["label"] for r in card["validation"]["trackers"]] == ["default", "opencv_csrt"]
    assert card["data"] and all(d["licences"] and "" not in d["licences"] for d in card["data"])
    assert sum(d["validation_sequences"] for d in card["data"]) > 0
    # the same inputs give the shipped card's description of the file and of its data
    shipped_card = json.loads((WEIGHTS_DIR / "fcot_lite.json").read_text())
    assert card["weights"] == shipped_card["weights"] and card["data"] == shipped_card["data"]

    missing = _bench(tmp_path / "other.json", [{"label": "trained", "summary": {}}])
    argv[argv.index("--bench") + 1] = str(missing)
    assert model_card.main(argv) == 2
    err = capsys.readouterr().err
    assert "no tracker labelled 'default'" in err and "trained" in err
