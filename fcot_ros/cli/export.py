"""``fcot export``: the feature network as ONNX graphs (features + init) or TensorRT engines.

    fcot export --model fcot_lite --format onnx --out exports/          # the default preset's crop (224)
    fcot export --model fcot_lite --crop-size 0 --out exports/          # the network's own crop (288)
    fcot export --model fcot_r50 --weights fcot.pth --format tensorrt --fp16 --out exports/
    fcot export --model dsiam_lite --out exports/                       # one graph, N and S dynamic

ONNX: ``<out>/<model>_features.onnx`` and ``<out>/<model>_init.onnx`` (names, shapes and metadata:
docs/runtimes.md). TensorRT (needs a CUDA GPU and the tensorrt package): the two ONNX files plus
``<out>/<model>_{features,init}_{fp16,fp32}.engine``. dsiam_lite: ``<out>/dsiam_lite_features.onnx``
only (fcot_ros.runtime.dsiam_runtime; no TensorRT path).
"""
import sys
from pathlib import Path

from fcot_ros.assembly.registry import DSIAM_MODELS, FCOT_MODEL_NAMES
from fcot_ros.errors import FCOTError


def register(subparsers) -> None:
    """Add the ``export`` sub-command and its options to ``subparsers``."""
    p = subparsers.add_parser("export", help="export the feature network to ONNX or TensorRT",
                              description="Export the frozen feature network (backbone, decoder, heads and "
                                          "the feature parts of the initializers) for the fixed crop size.")
    p.add_argument("--model", default="fcot_lite", choices=FCOT_MODEL_NAMES + tuple(m.name for m in DSIAM_MODELS))
    p.add_argument("--weights", default=None, help="checkpoint (ours or the authors' fcot.pth); "
                                                   "fcot_lite defaults to its shipped weights")
    p.add_argument("--random-weights", action="store_true",
                   help="fcot_r50 only: export a randomly initialised network (for testing the toolchain)")
    p.add_argument("--crop-size", type=int, default=None,
                   help="square crop the graphs take, pixels (a multiple of 16 >= 64); default: the 'default' "
                        "preset's crop_size, as the tracker runs it; 0 = the network's own (288)")
    p.add_argument("--format", default="onnx", choices=("onnx", "tensorrt"))
    p.add_argument("--fp16", action="store_true", help="TensorRT: build an FP16 engine (default FP32)")
    p.add_argument("--workspace-mb", type=int, default=None, help="TensorRT builder workspace (MiB, default 1024)")
    p.add_argument("--out", default="exports", help="output folder")
    p.set_defaults(func=run)


def _crop_config(crop_size) -> dict:
    """Model settings for ``--crop-size``: None = the default preset's crop, 0 = the network's own;
    anything else is checked as the tracker checks its crop_size (ConfigurationError)."""
    from fcot_ros.assembly import crop_settings
    from fcot_ros.tracker.params import get_params
    return crop_settings(get_params("default") if crop_size is None else get_params("default", crop_size=crop_size))


def _load(args):
    """(network, the weights file it was loaded from or None): fcot_lite without --weights takes its
    shipped weights; fcot_r50 --random-weights a randomly initialised network; both at --crop-size."""
    config = _crop_config(args.crop_size)
    if args.model == "fcot_r50" and args.weights is None and args.random_weights:
        from fcot_ros.models.fcot_model import build_model
        return build_model("fcot_r50", imagenet_backbone=False, **config).eval(), None
    from fcot_ros.assembly import load_model, model_spec, resolve_weights
    weights = resolve_weights(model_spec(args.model), args.weights, "default")
    return load_model(args.model, weights, **config), weights


def _describe(path) -> str:
    import onnx
    model = onnx.load(str(path), load_external_data=False)

    def dims(value):
        return "(" + ", ".join(d.dim_param or str(d.dim_value) for d in value.type.tensor_type.shape.dim) + ")"
    ins = ", ".join(f"{v.name} {dims(v)}" for v in model.graph.input)
    outs = ", ".join(f"{v.name} {dims(v)}" for v in model.graph.output)
    return f"  inputs:  {ins}\n  outputs: {outs}"


def _report(path) -> None:
    """Print a written ONNX file: size, opset, weights hash, its inputs and outputs."""
    from fcot_ros.runtime.export import read_metadata
    meta = read_metadata(path)
    print(f"{path}  ({path.stat().st_size / 2**20:.1f} MiB, opset {meta['opset']}, "
          f"weights sha256 {meta['weights_sha256'][:16]}…, onnx.checker: ok)")
    print(_describe(path))


def _export_dsiam(args) -> int:
    """dsiam_lite's features graph (ONNX only); its shipped weights unless --weights."""
    from fcot_ros.assembly import model_spec, resolve_weights
    from fcot_ros.assembly.dsiam_loading import load_dsiam_model
    from fcot_ros.runtime.dsiam_runtime import export_dsiam_onnx
    if args.format != "onnx" or args.crop_size is not None or args.random_weights:
        print("fcot export: error: dsiam_lite exports one ONNX graph (no --format tensorrt, --crop-size or "
              "--random-weights)", file=sys.stderr)
        return 2
    try:
        weights = resolve_weights(model_spec(args.model), args.weights, "default")
        model = load_dsiam_model(weights)
    except FCOTError as exc:
        print(f"fcot export: error: {exc}", file=sys.stderr)
        return 2
    try:
        path = export_dsiam_onnx(model.features, Path(args.out), args.model, weights=weights)
    except Exception as exc:
        print(f"fcot export: ONNX export failed: {exc}", file=sys.stderr)
        return 1
    _report(path)
    return 0


def run(args) -> int:
    """``fcot export``: write the ONNX graphs (and TensorRT engines); 0, 1 when an export or build fails,
    2 when the weights cannot be loaded or TensorRT is unavailable."""
    if args.model in {m.name for m in DSIAM_MODELS}:
        return _export_dsiam(args)
    try:
        net, weights = _load(args)
    except FCOTError as exc:
        print(f"fcot export: error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    from fcot_ros.runtime.export import export_onnx
    try:
        paths = export_onnx(net.features, out, args.model, weights=weights)
    except Exception as exc:
        print(f"fcot export: ONNX export failed: {exc}", file=sys.stderr)
        return 1
    for path in paths.values():
        _report(path)
    if args.format == "onnx":
        return 0

    import torch

    from fcot_ros.runtime.tensorrt_runtime import build_engine, tensorrt_available
    if not tensorrt_available():
        print("fcot export: error: --format tensorrt needs a CUDA GPU and the tensorrt package "
              f"(CUDA available: {torch.cuda.is_available()}); the ONNX files above were written",
              file=sys.stderr)
        return 2
    precision = "fp16" if args.fp16 else "fp32"
    for graph, onnx_path in paths.items():
        engine = out / f"{args.model}_{graph}_{precision}.engine"
        try:
            build_engine(onnx_path, engine, fp16=args.fp16, workspace_mb=args.workspace_mb or 1024,
                         crop_size=int(net.config.crop_size))
        except Exception as exc:
            print(f"fcot export: TensorRT build of {onnx_path} failed: {exc}", file=sys.stderr)
            return 1
        print(f"{engine}  ({engine.stat().st_size / 2**20:.1f} MiB, TensorRT {precision}, "
              f"GPU {torch.cuda.get_device_name()})")
    return 0
