"""Export of a trained model through the runtimes' export path: the two ONNX graphs of its feature
network always, TensorRT engines (FP16) when a CUDA GPU and tensorrt are present."""
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def export_trained(model, out_dir, weights=None) -> dict:
    """{name: path} of the exported files in ``out_dir`` (created). weights: the checkpoint the model
    was saved to (its hash goes into the ONNX metadata)."""
    from fcot_ros.runtime.export import export_onnx
    from fcot_ros.runtime.tensorrt_runtime import build_engine, tensorrt_available
    out_dir = Path(out_dir)
    name = model.config.name
    paths = {f"onnx_{g}": p for g, p in export_onnx(model.features, out_dir, name, weights=weights).items()}
    if tensorrt_available():
        for graph in ("features", "init"):
            engine = out_dir / f"{name}_{graph}_fp16.engine"
            try:
                build_engine(paths[f"onnx_{graph}"], engine, fp16=True, crop_size=int(model.config.crop_size))
                paths[f"tensorrt_{graph}"] = engine
            except Exception as exc:  # an engine is a bonus; the ONNX files are the export
                log.warning("TensorRT build of %s failed: %s", graph, exc)
    return paths
