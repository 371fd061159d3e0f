"""The GPU ratchet: one prepared run for a lent CUDA machine (the device tool's $OUT gets the results).

    python -m training.pack --out packs/fcot_lite                 # here, once: the compact pack (<= 48 MiB)
    python3 -m training.gpu_ratchet --out "$OUT" --minutes 6      # there: timings, fp16 agreement, training
    python -m training.gpu_ratchet --out /tmp/dry --dry-run       # here, first: the same run on the CPU, tiny

In order (each part's failure is recorded in results.json and the next part still runs):
1. ``environment``: GPU, driver, torch, CUDA, CPU count.
2. ``timings``: the pack's start weights (the shipped fcot_lite) on CUDA, feature network alone on one
   crop of the default preset's size, 224x224 (median of ``--runs`` CUDA-synchronised calls, fp32 and
   fp16 autocast) and ``track()``
   end to end on pack frames (median ms, FPS), beside ONNX Runtime on this machine's CPU.
3. ``agreement``: boxes of torch-CUDA fp16 and ONNX Runtime CPU against torch-CUDA fp32, frame by
   frame on ``--agreement-sequences`` pack sequences (mean IoU, frames below IoU 0.9).
4. ``training``: ``python -m training`` with training/configs/fcot_lite_gpu_ratchet.yaml for
   ``--minutes`` of training wall time (run.max_minutes; the run stops after its step, as on SIGINT),
   from the pack's start weights; samples, steps, samples/s, loss at start and end.
5. ``shipped``: the last checkpoint, and the one nearest the middle of the run, made into weights
   files (training.ship) for the CPU validation (python -m training.validate) to accept or refuse.

Files under --out (at most 8, one folder deep, as the device tool brings back): results.json,
train.log, fcot_lite_ratchet.pt, fcot_lite_ratchet_mid.pt, events.tfevents (TensorBoard scalars).
``--dry-run`` shrinks everything (CPU, batch 2, 2 workers, 8-sample epochs, 0.25 min, few frames) so
that a fault shows here before a GPU is spent on it.
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
RECIPE = "training/configs/fcot_lite_gpu_ratchet.yaml"


def environment() -> dict:
    """Versions and hardware of this machine: Python, torch, CPUs, GPU, CUDA and nvidia-smi's line (None without it)."""
    info = {"python": platform.python_version(), "torch": torch.__version__, "cpus": os.cpu_count(),
            "cuda_available": torch.cuda.is_available(), "host": platform.node()}
    if torch.cuda.is_available():
        info.update(gpu=torch.cuda.get_device_name(0), cuda=torch.version.cuda,
                    gpu_memory_gib=round(torch.cuda.get_device_properties(0).total_memory / 2 ** 30, 1))
    try:
        info["nvidia_smi"] = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu",
             "--format=csv,noheader"], capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        info["nvidia_smi"] = None
    return info


# ------------------------------------------------------------------ trackers on the pack's start weights
def _pack_sequences(pack: Path, count: int, frames: int):
    """The first ``count`` pack sequences with a box in frame 0: (name, [images], first box)."""
    from training.data.sources import load_source
    out = []
    for seq in load_source("folder", pack):
        if not seq.visible[0]:
            continue
        n = min(frames, len(seq))
        out.append((seq.name, [seq.frame(i) for i in range(n)], tuple(float(v) for v in seq.boxes[0])))
        if len(out) == count:
            break
    return out


def _trackers(weights: Path, device: str):
    """{label: FCOTTracker} for torch fp32 / fp16 on ``device`` and ONNX Runtime on the CPU."""
    from fcot_ros.assembly import build_runtime, crop_settings, load_model
    from fcot_ros.runtime.torch_runtime import TorchRuntime
    from fcot_ros.tracker.fcot_tracker import FCOTTracker
    from fcot_ros.tracker.params import get_params
    params = get_params("default")

    def network():          # at the default preset's crop, as build_tracker builds it
        return load_model("fcot_lite", weights, **crop_settings(params))
    trackers, errors = {}, {}
    builders = {f"torch_{device}_fp32": lambda: TorchRuntime(network().to(device).features, device, "fp32"),
                "onnxruntime_cpu": lambda: build_runtime("onnxruntime", network(), "cpu", weights=weights)}
    if device.startswith("cuda"):
        builders[f"torch_{device}_fp16"] = lambda: TorchRuntime(network().to(device).features, device, "fp16")
    for label, build in builders.items():
        try:
            runtime = build()
            net = network().to(runtime.device)
            trackers[label] = FCOTTracker(net, runtime, params, model_name="fcot_lite")
        except Exception as exc:   # an optional runtime that cannot be built is reported, not fatal
            errors[label] = f"{type(exc).__name__}: {exc}"
    return trackers, errors


def _sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def timings(trackers, sequences, runs: int, warmup: int) -> dict:
    """Network-only ms (one crop) and track() ms / FPS per tracker, interleaved call by call."""
    name, images, box = sequences[0]
    x, y, w, h = box
    side = int(max(8, 5 * (w * h) ** 0.5))
    cx, cy = int(x + w / 2), int(y + h / 2)
    import cv2
    patch = images[0][max(0, cy - side // 2):cy + side // 2, max(0, cx - side // 2):cx + side // 2]
    size = next(iter(trackers.values())).crop_size          # the preset's crop (224 for `default`)
    crops = np.ascontiguousarray(cv2.resize(patch, (size, size))[None])
    net_ms = {k: [] for k in trackers}
    for i in range(warmup + runs):
        for label, t in trackers.items():
            _sync(t.device)
            t0 = time.perf_counter()
            t.runtime.extract(crops)
            _sync(t.device)
            if i >= warmup:
                net_ms[label].append(1e3 * (time.perf_counter() - t0))
    step_ms = {k: [] for k in trackers}
    for label, t in trackers.items():
        t.initialize(images[0], box)
    for image in images[1:]:
        for label, t in trackers.items():
            t0 = time.perf_counter()
            t.track(image)
            _sync(t.device)
            step_ms[label].append(1e3 * (time.perf_counter() - t0))
    out = {"sequence": name, "frames": len(images) - 1, "runs": runs}
    for label in trackers:
        out[label] = {"network_ms_median": statistics.median(net_ms[label]),
                      "network_ms_p90": float(np.percentile(net_ms[label], 90)),
                      "track_ms_median": statistics.median(step_ms[label]),
                      "track_ms_mean": statistics.fmean(step_ms[label]),
                      "fps": 1e3 / statistics.fmean(step_ms[label])}
    return out


def agreement(trackers, sequences, reference: str) -> dict:
    """Per sequence and overall: mean IoU of each tracker's boxes against ``reference``'s."""
    from fcot_ros.tracker.box_geometry import box_iou
    others = [k for k in trackers if k != reference]
    per = {}
    for name, images, box in sequences:
        for t in trackers.values():
            t.initialize(images[0], box)
        ious = {k: [] for k in others}
        for image in images[1:]:
            ref = trackers[reference].track(image).box
            for k in others:
                ious[k].append(box_iou(ref, trackers[k].track(image).box))
        per[name] = {k: {"mean_iou": float(np.mean(v)), "below_0.9": int(np.sum(np.asarray(v) < 0.9)),
                         "frames": len(v)} for k, v in ious.items()}
    overall = {k: float(np.mean([per[s][k]["mean_iou"] for s in per])) for k in others}
    return {"reference": reference, "sequences": per, "mean_iou": overall}


# ------------------------------------------------------------------ training
def run_training(out: Path, work: Path, pack: Path, minutes: float, device: str, dry_run: bool) -> dict:
    """``python -m training`` on the ratchet recipe, its data and start weights from ``pack``, in a
    subprocess (log to out/train.log)."""
    overrides = [f"run.max_minutes={minutes}", f"run.device={device}", "run.progress=false",
                 f"model.init_weights={pack / 'init_fcot_lite.pt'}", f"data.sources.0.root={pack}",
                 f"data.sources.1.root={pack}"]
    if dry_run:
        overrides += ["run.batch_size=2", "data.workers=2", "data.samples_per_epoch=8", "run.log_every=1"]
    cmd = [sys.executable, "-m", "training", "--config", RECIPE, "--out", str(work)]
    for item in overrides:
        cmd += ["--set", item]
    log_path = out / "train.log"
    started = time.time()
    with open(log_path, "w") as log:
        log.write(" ".join(cmd) + "\n")
        log.flush()
        proc = subprocess.run(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                              timeout=60 * minutes + 600)
    result = {"command": " ".join(cmd), "returncode": proc.returncode, "wall_s": time.time() - started}
    checkpoint = work / "checkpoint_last.pt"
    if checkpoint.is_file():
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        meta = state.get("meta", {})
        training = meta.get("training", {}) if isinstance(meta, dict) else {}
        result.update(steps=training.get("step"), epochs_done=training.get("epoch"),
                      samples_per_second=training.get("samples_per_second"))
    result["loss"] = _loss_summary(work / "tensorboard")
    return result


def _loss_summary(folder: Path) -> dict:
    """First and last logged values of loss/total (mean of up to 5 points each) from TensorBoard."""
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError:
        return {}
    acc = EventAccumulator(str(folder))
    acc.Reload()
    tags = acc.Tags().get("scalars", [])
    summary = {}
    for tag in ("loss/total", "loss/cls18/final", "loss/cls72/final", "loss/reg/final", "samples_per_second"):
        if tag in tags:
            values = [e.value for e in acc.Scalars(tag)]
            summary[tag] = {"first": float(np.mean(values[:5])), "last": float(np.mean(values[-5:])),
                            "points": len(values)}
    return summary


def ship_results(out: Path, work: Path) -> dict:
    """Weights files of the last checkpoint and of the epoch checkpoint nearest the middle of the run."""
    from training.ship import ship
    shipped = {}
    last = work / "checkpoint_last.pt"
    if last.is_file():
        shipped["last"] = str(ship(last, out / "fcot_lite_ratchet.pt", note="GPU ratchet, end of run"))
    epochs = sorted(work.glob("checkpoint_ep*.pt"))
    if len(epochs) >= 2:
        mid = epochs[(len(epochs) - 1) // 2]
        shipped["mid"] = str(ship(mid, out / "fcot_lite_ratchet_mid.pt", note=f"GPU ratchet, {mid.name}"))
        shipped["mid_checkpoint"] = mid.name
    events = sorted((work / "tensorboard").glob("events.out.tfevents.*"))
    if events:
        shutil.copyfile(events[-1], out / "events.tfevents")
    return shipped


def _part(results: dict, name: str, fn):
    t0 = time.time()
    try:
        results[name] = fn()
    except Exception as exc:   # record and go on: the later parts must still run on a lent GPU
        results[name] = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    results.setdefault("seconds", {})[name] = round(time.time() - t0, 1)
    print(f"[ratchet] {name}: {time.time() - t0:.1f} s", flush=True)


def main(argv=None) -> int:
    """Command line: run the ratchet's parts in order, write results.json; 0, 1 when a part failed, 2 without a pack."""
    parser = argparse.ArgumentParser(prog="python -m training.gpu_ratchet", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.environ.get("OUT") or "runs/gpu_ratchet_out")
    parser.add_argument("--work", default=None, help="run folder of the training (default: a temp folder)")
    parser.add_argument("--pack", default="packs/fcot_lite")
    parser.add_argument("--minutes", type=float, default=6.0, help="training wall time")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--runs", type=int, default=50, help="timed network calls per runtime")
    parser.add_argument("--frames", type=int, default=150, help="frames per sequence for timing and agreement")
    parser.add_argument("--agreement-sequences", type=int, default=4)
    parser.add_argument("--dry-run", action="store_true", help="tiny CPU run of every part")
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args(argv)
    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    if args.dry_run:
        device, args.minutes, args.runs, args.frames, args.agreement_sequences = "cpu", 0.25, 3, 6, 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pack = REPO / args.pack
    weights = pack / "init_fcot_lite.pt"
    if not weights.is_file():
        print(f"no pack at {pack} (python -m training.pack --out {args.pack})", file=sys.stderr)
        return 2
    work = Path(args.work) if args.work else Path(os.environ.get("TMPDIR", "/tmp")) / f"ratchet_{os.getpid()}"
    results = {"started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "device": device,
               "dry_run": args.dry_run, "minutes": args.minutes,
               "pack": json.loads((pack / "pack.json").read_text())}
    _part(results, "environment", environment)
    print(f"[ratchet] {results['environment']}", flush=True)
    holder = {}

    def prepare():
        holder["sequences"] = _pack_sequences(pack, max(1, args.agreement_sequences), args.frames)
        holder["trackers"], errors = _trackers(weights, device)
        return {"trackers": sorted(holder["trackers"]), "errors": errors}
    _part(results, "trackers", prepare)
    if holder.get("trackers"):
        _part(results, "timings", lambda: timings(holder["trackers"], holder["sequences"], args.runs, 5))
        _part(results, "agreement", lambda: agreement(holder["trackers"], holder["sequences"],
                                                       f"torch_{device}_fp32"))
    holder.clear()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    if not args.skip_training:
        _part(results, "training", lambda: run_training(out, work, pack, args.minutes, device, args.dry_run))
        _part(results, "shipped", lambda: ship_results(out, work))
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    _print_summary(results)
    failed = [k for k, v in results.items() if isinstance(v, dict) and "error" in v]
    return 1 if failed else 0


def _print_summary(results: dict):
    print("\n[ratchet] summary")
    t = results.get("timings", {})
    for label, row in t.items():
        if isinstance(row, dict) and "network_ms_median" in row:
            print(f"  {label:24s} network {row['network_ms_median']:7.2f} ms   track {row['track_ms_median']:7.2f} ms"
                  f"   {row['fps']:7.1f} FPS")
    a = results.get("agreement", {})
    if "mean_iou" in a:
        print(f"  agreement vs {a['reference']}: " + ", ".join(f"{k} {v:.3f}" for k, v in a["mean_iou"].items()))
    tr = results.get("training", {})
    if "returncode" in tr:
        print(f"  training rc {tr['returncode']}, {tr.get('steps')} steps, {tr.get('samples_per_second')} samples/s, "
              f"loss {tr.get('loss', {}).get('loss/total')}")
    for k, v in results.items():
        if isinstance(v, dict) and "error" in v:
            print(f"  ERROR in {k}: {v['error']}")
    print(f"  parts' seconds: {results.get('seconds')}")


if __name__ == "__main__":
    sys.exit(main())
