"""Where a frame's network time goes: GFLOP per module (torch FlopCounterMode) and ONNX Runtime's own
per-node profile grouped by the same modules, on this machine's CPU.

    python -m fcot_ros.tools.network_cost [--model fcot_lite] [--weights W] [--crop-size 224] [--runs 30] [--threads N]

Prints one Markdown table: module, GFLOP per crop (the network's own crop size, or --crop-size), share
of the FLOPs, ONNX Runtime ms per frame (median over --runs of the sum of that module's node times)
and share of the time, then the CPU (tools differ by ~2x between CPUs with and without AVX-512:
compare only within one run).
Modules are the feature network's children, with the heads split one level further
(``cls72_head.body``, ``reg_features.head_72``, ...).
"""
import argparse
import json
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

SPLIT_FURTHER = ("reg_features", "cls72_head", "decoder")


def module_key(path: str, top_level=()) -> str:
    """'/cls72_head/body/conv1/Conv' (ONNX node) or 'cls72_head.body.conv1' (module) -> 'cls72_head.body';
    the backbone (EfficientNet blocks export as '/_blocks.N/...') -> 'backbone'; a parent's own ops
    ('/decoder/Resize') -> 'decoder'; names outside ``top_level`` (when given) -> '(other)'."""
    parts = [p for p in path.replace("/", ".").split(".") if p]
    if not parts:
        return "(other)"
    if parts[0].startswith("_") or parts[0] == "backbone":
        return "backbone"
    if top_level and parts[0] not in top_level:
        return "(other)"
    if parts[0] in SPLIT_FURTHER and len(parts) > 2:
        return f"{parts[0]}.{parts[1]}"
    return parts[0]


def flops_per_module(features, crop_size: int) -> dict:
    """{module key: FLOPs} of one forward pass of ``features`` on a (1, 3, S, S) crop; a split parent's
    FLOPs outside its children (e.g. the decoder's additions) stay under the parent's key."""
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False, depth=None)
    with torch.no_grad(), counter:
        features(torch.rand(1, 3, crop_size, crop_size) * 255)
    raw = counter.get_flop_counts()
    counts = {name.split(".", 1)[1]: float(sum(ops.values())) for name, ops in raw.items() if "." in name}
    top = [name for name, _ in features.named_children() if name != "backbone"]
    # the backbone runs through forward_features, which no module hook sees: it is the rest
    out = {"backbone": float(sum(raw["Global"].values())) - sum(counts.get(name, 0.0) for name in top)}
    for name in top:
        total = counts.get(name, 0.0)
        if name in SPLIT_FURTHER:
            children = {f"{name}.{c}": counts.get(f"{name}.{c}", 0.0) for c, _ in
                        getattr(features, name).named_children()}
            out.update({k: v for k, v in children.items() if v > 0})
            total -= sum(children.values())
        if total > 1e3:
            out[name] = total
    return out


def ort_profile(onnx_path: str, crop_size: int, runs: int, threads: int, top_level=()) -> dict:
    """{module key: [ms per run]} of node kernel times from ONNX Runtime's profiler, over ``runs`` runs
    after 3 warm-ups (each run's nodes found by the time window of its model_run event)."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.enable_profiling = True
    so.profile_file_prefix = str(Path(tempfile.mkdtemp()) / "fcot_profile")
    session = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
    x = (np.random.default_rng(0).random((1, 3, crop_size, crop_size)) * 255).astype(np.float32)
    name = session.get_inputs()[0].name
    for _ in range(3 + runs):
        session.run(None, {name: x})
    events = json.loads(Path(session.end_profiling()).read_text())
    windows = sorted((e["ts"], e["ts"] + e["dur"]) for e in events
                     if e.get("cat") == "Session" and e.get("name") == "model_run")[3:]
    out = defaultdict(lambda: [0.0] * len(windows))
    for e in events:
        if e.get("cat") != "Node" or not e.get("name", "").endswith("_kernel_time"):
            continue
        for k, (start, end) in enumerate(windows):
            if start <= e["ts"] <= end:
                out[module_key(e["name"][: -len("_kernel_time")], top_level)][k] += e["dur"] / 1000.0
                break
    return dict(out)


def main(argv=None) -> int:
    """Command line: GFLOP and ONNX Runtime ms per feature-network module as a Markdown table; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="fcot_lite")
    parser.add_argument("--weights", default=None)
    parser.add_argument("--crop-size", type=int, default=None,
                        help="search-crop side in pixels (a multiple of 16; default: the network's own)")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads (0: physical cores)")
    args = parser.parse_args(argv)
    from fcot_ros.assembly import load_model, model_spec, resolve_weights
    from fcot_ros.evaluation.machine import cpu_description
    from fcot_ros.runtime.export import export_onnx
    from fcot_ros.runtime.onnx_runtime import physical_cores
    config = {"crop_size": args.crop_size} if args.crop_size else {}
    net = load_model(args.model, resolve_weights(model_spec(args.model), args.weights, "default"), **config).eval()
    size = net.config.crop_size
    flops = flops_per_module(net.features, size)
    top = tuple(name for name, _ in net.features.named_children())
    with tempfile.TemporaryDirectory() as tmp:
        paths = export_onnx(net.features, tmp, args.model, graphs=("features",))
        times = ort_profile(str(paths["features"]), size, args.runs, args.threads or physical_cores(), top)
    total_flops = sum(flops.values())
    medians = {k: statistics.median(v) for k, v in times.items()}
    total_ms = sum(medians.values())
    keys = sorted(set(flops) | set(medians), key=lambda k: -flops.get(k, 0.0))
    print("| module | GFLOP | share | ORT ms (median) | share |")
    print("|---|---:|---:|---:|---:|")
    for k in keys:
        f, t = flops.get(k, 0.0), medians.get(k, 0.0)
        print(f"| {k} | {f / 1e9:.3f} | {100 * f / total_flops:.0f}% | {t:.2f} | {100 * t / total_ms:.0f}% |")
    print(f"| **total** | **{total_flops / 1e9:.2f}** | | **{total_ms:.1f}** | |")
    print(f"\n{args.model}, {size}x{size} crop, {args.runs} runs, {args.threads or physical_cores()} ORT threads; "
          f"CPU: {cpu_description()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
