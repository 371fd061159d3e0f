"""TensorRT runtime of the feature network (TensorRT 10 Python API), for CUDA GPUs.

Engines are built from the exported ONNX graphs (``fcot_ros.runtime.export``) with FP32 or FP16
precision and a configurable workspace, and cached on disk keyed by model + weights (state-dict hash)
+ GPU name and compute capability + TensorRT version + precision (+ ONNX export fields); a stale or
corrupt entry is rebuilt. Inference binds torch CUDA tensors by address
(``IExecutionContext.set_tensor_address`` + ``execute_async_v3`` on torch's current stream): crops are
uploaded once as uint8, converted on the GPU, and the outputs stay on the GPU for the PyTorch
optimizers (no host round trip; work is ordered on the stream, so no synchronisation is needed).

``features`` engine: fixed input (1, 3, S, S). ``init`` engine: optimisation profile for N in
[1, max_init_batch] (opt = the tracker's usual augmentation count).

Optional: ``torch2trt`` (not on PyPI) is used only when requested and importable; any failure falls
back to the ONNX path.
"""
import logging
import os

import torch

from fcot_ros.errors import BackendError
from fcot_ros.runtime.base import FeatureRuntime, crops_to_tensor
from fcot_ros.runtime.export import FEATURES_OUTPUTS, INIT_OUTPUTS

log = logging.getLogger(__name__)

DEFAULT_WORKSPACE_MB = 1024
DEFAULT_MAX_INIT_BATCH = 64
DEFAULT_OPT_INIT_BATCH = 24  # 1 + flip + 12 rotations + 5 blurs + 4 shifts (default preset)


def tensorrt_available() -> bool:
    """True when a CUDA GPU is visible to torch and the tensorrt module imports."""
    if not torch.cuda.is_available():
        return False
    try:
        import tensorrt  # noqa: F401
    except Exception:  # ImportError, or a broken install raising OSError on its libraries
        return False
    return True


def _trt():
    try:
        import tensorrt as trt
    except Exception as exc:
        raise BackendError(f"backend 'tensorrt' needs the tensorrt package ({exc})") from exc
    return trt


class _Logger:
    """One TensorRT logger per process (TensorRT warns when several are created)."""

    instance = None

    @classmethod
    def get(cls):
        if cls.instance is None:
            trt = _trt()
            cls.instance = trt.Logger(trt.Logger.WARNING)
        return cls.instance


def _torch_dtype(trt_dtype):
    trt = _trt()
    table = {trt.float32: torch.float32, trt.float16: torch.float16, trt.int32: torch.int32,
             trt.int8: torch.int8, trt.bool: torch.bool}
    if hasattr(trt, "int64"):
        table[trt.int64] = torch.int64
    if hasattr(trt, "bfloat16"):
        table[trt.bfloat16] = torch.bfloat16
    return table[trt_dtype]


def build_engine(onnx_path, engine_path, fp16=False, workspace_mb=DEFAULT_WORKSPACE_MB, crop_size=288,
                 init_batch=(1, DEFAULT_OPT_INIT_BATCH, DEFAULT_MAX_INIT_BATCH)):
    """Parse ``onnx_path`` and write a serialized engine to ``engine_path``."""
    trt = _trt()
    logger = _Logger.get()
    builder = trt.Builder(logger)
    flags = 0
    if int(trt.__version__.split(".")[0]) < 10:  # explicit batch is the only mode from TensorRT 10 on
        flags = 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(os.fspath(onnx_path)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise BackendError(f"TensorRT could not parse {onnx_path}: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(workspace_mb) << 20)
    if fp16:
        if not getattr(builder, "platform_has_fast_fp16", True):
            log.warning("fcot_ros: this GPU has no fast FP16; building the FP16 engine anyway")
        config.set_flag(trt.BuilderFlag.FP16)
    dynamic = [network.get_input(i) for i in range(network.num_inputs) if -1 in tuple(network.get_input(i).shape)]
    if dynamic:
        lo, opt, hi = init_batch
        profile = builder.create_optimization_profile()
        for tensor in dynamic:
            rest = tuple(tensor.shape)[1:]
            profile.set_shape(tensor.name, (lo, *rest), (opt, *rest), (hi, *rest))
        config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise BackendError(f"TensorRT failed to build an engine from {onnx_path}")
    with open(engine_path, "wb") as f:
        f.write(bytes(serialized))


class _Engine:
    """A deserialized engine + execution context, run on torch CUDA tensors by address."""

    def __init__(self, path, device):
        trt = _trt()
        self.device = device
        with open(path, "rb") as f:
            blob = f.read()
        self.runtime = trt.Runtime(_Logger.get())
        self.engine = self.runtime.deserialize_cuda_engine(blob)
        if self.engine is None:
            raise BackendError(f"TensorRT could not deserialize {path} (corrupt, or built by another version)")
        self.context = self.engine.create_execution_context()
        if self.context is None:
            raise BackendError(f"TensorRT could not create an execution context for {path}")
        self.inputs, self.outputs = [], []
        for i in range(self.engine.num_io_tensors):
            name = self.engine.get_tensor_name(i)
            if self.engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT:
                self.inputs.append(name)
            else:
                self.outputs.append(name)
        self.dtypes = {n: _torch_dtype(self.engine.get_tensor_dtype(n)) for n in self.inputs + self.outputs}
        # a dedicated stream (TensorRT synchronises extra when enqueued on the legacy default stream),
        # ordered against torch's current stream with events: no host synchronisation
        self.stream = torch.cuda.Stream(device=device)

    def __call__(self, **inputs):
        caller = torch.cuda.current_stream(self.device)
        stream = self.stream
        keep = []
        for name in self.inputs:
            t = inputs[name].to(self.device, self.dtypes[name]).contiguous()
            keep.append(t)
            if not self.context.set_input_shape(name, tuple(t.shape)):
                raise BackendError(f"TensorRT rejected shape {tuple(t.shape)} for input {name!r}")
            self.context.set_tensor_address(name, t.data_ptr())
        outs = []
        for name in self.outputs:
            shape = tuple(self.context.get_tensor_shape(name))
            out = torch.empty(shape, dtype=self.dtypes[name], device=self.device)
            self.context.set_tensor_address(name, out.data_ptr())
            outs.append(out)
        stream.wait_stream(caller)  # inputs were written on the caller's stream
        if not self.context.execute_async_v3(stream.cuda_stream):
            raise BackendError("TensorRT execute_async_v3 failed")
        for t in keep + outs:  # memory from the caller's stream, used on ours
            t.record_stream(stream)
        caller.wait_stream(stream)  # the optimizers (caller's stream) run after the engine
        return {n: (o.float() if o.dtype != torch.float32 else o) for n, o in zip(self.outputs, outs)}

    def run(self, output_names, **inputs):
        """Outputs in the order of ``output_names`` (TensorRT does not promise the ONNX order)."""
        missing = [n for n in output_names if n not in self.outputs]
        if missing:
            raise BackendError(f"engine lacks outputs {missing}; it has {self.outputs}")
        out = self(**inputs)
        return tuple(out[n] for n in output_names)


def engine_cache_fields(onnx_fields: dict, device, fp16: bool, init_batch) -> dict:
    """TensorRT engine cache key: the ONNX fields plus GPU, compute capability, TensorRT version, precision, batch."""
    trt = _trt()
    index = torch.device(device).index
    index = torch.cuda.current_device() if index is None else index
    major, minor = torch.cuda.get_device_capability(index)
    return {**onnx_fields, "gpu": torch.cuda.get_device_name(index), "compute_capability": f"{major}.{minor}",
            "tensorrt_version": trt.__version__, "precision": "fp16" if fp16 else "fp32",
            "init_batch": list(init_batch)}


class TensorRTRuntime(FeatureRuntime):
    """Feature-network runtime on TensorRT engines (features and init), inputs and outputs as CUDA tensors."""

    name = "tensorrt"

    def __init__(self, engine_paths: dict, device="cuda", precision="fp32"):
        self.device = torch.device(device)
        if self.device.type != "cuda" or not torch.cuda.is_available():
            raise BackendError("backend 'tensorrt' needs a CUDA device")
        self.precision = precision
        self.engine_paths = {k: str(v) for k, v in engine_paths.items()}
        with torch.cuda.device(self.device):
            self.features = _Engine(self.engine_paths["features"], self.device)
            self.init = _Engine(self.engine_paths["init"], self.device)

    def extract(self, crops):
        """crops (N, S, S, 3) uint8 BGR -> (cls18, cls72, reg) feature maps on the GPU, one engine call per crop."""
        x = crops_to_tensor(crops, self.device)  # uint8 upload, float conversion on the GPU
        if x.shape[0] == 1:
            return self.features.run(FEATURES_OUTPUTS, crops=x)
        parts = [self.features.run(FEATURES_OUTPUTS, crops=x[i:i + 1]) for i in range(x.shape[0])]
        return tuple(torch.cat([p[k] for p in parts]) for k in range(len(parts[0])))

    def extract_init(self, crops, boxes):
        """crops (N, S, S, 3) uint8, boxes (N, 4) xywh in crop pixels -> the three maps and the initial filters."""
        x = crops_to_tensor(crops, self.device)
        b = torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4).to(self.device)
        return self.init.run(INIT_OUTPUTS, crops=x, boxes=b)


class Torch2TRTRuntime(FeatureRuntime):
    """Optional path through torch2trt (only when it is importable; never required)."""

    name = "tensorrt(torch2trt)"

    def __init__(self, features, device="cuda", fp16=False, workspace_mb=DEFAULT_WORKSPACE_MB):
        from torch2trt import torch2trt  # raises ImportError when absent

        from fcot_ros.runtime.export import example_inputs
        self.device = torch.device(device)
        net = features.to(self.device).eval()
        crops, _ = example_inputs(int(net.config.crop_size), 1)
        self.module = torch2trt(net, [crops.to(self.device)], fp16_mode=fp16,
                                max_workspace_size=int(workspace_mb) << 20)
        self.net = net  # init graph (once per target) stays in PyTorch on the GPU

    @torch.inference_mode()
    def extract(self, crops):
        """crops (N, S, S, 3) uint8 BGR -> (cls18, cls72, reg) feature maps, one torch2trt call per crop."""
        x = crops_to_tensor(crops, self.device)
        per_image = [tuple(self.module(x[i:i + 1])) for i in range(x.shape[0])]
        return tuple(torch.cat(maps) for maps in zip(*per_image))

    @torch.inference_mode()
    def extract_init(self, crops, boxes):
        """crops (N, S, S, 3) uint8, boxes (N, 4) xywh in crop pixels -> maps and initial filters (PyTorch network)."""
        b = torch.as_tensor(boxes, dtype=torch.float32, device=self.device)
        return self.net.forward_init(crops_to_tensor(crops, self.device), b)


def tensorrt_runtime_for(features, model_name, weights=None, device="cuda", fp16=True, workspace_mb=None,
                         cache_dir=None, init_batch=None, state_sha=None, use_torch2trt=False):
    """TensorRTRuntime from cached engines (built on first use from the cached ONNX graphs)."""
    from fcot_ros.runtime.digests import state_dict_sha256
    from fcot_ros.runtime.engine_cache import clear, get_or_build
    from fcot_ros.runtime.export import cached_onnx, onnx_cache_fields
    _trt()
    device = torch.device(device)
    if device.type != "cuda" or not torch.cuda.is_available():
        raise BackendError("backend 'tensorrt' needs a CUDA GPU; none is available")
    if use_torch2trt:
        try:
            return Torch2TRTRuntime(features, device, fp16=fp16, workspace_mb=workspace_mb or DEFAULT_WORKSPACE_MB)
        except ImportError:
            log.info("fcot_ros: torch2trt is not installed; building the engine from ONNX")
        except Exception as exc:  # torch2trt converters are incomplete (grid_sample, einsum)
            log.warning("fcot_ros: torch2trt conversion failed (%s); building the engine from ONNX", exc)
    workspace_mb = int(workspace_mb or DEFAULT_WORKSPACE_MB)
    init_batch = tuple(init_batch or (1, DEFAULT_OPT_INIT_BATCH, DEFAULT_MAX_INIT_BATCH))
    state_sha = state_sha or state_dict_sha256(features)
    onnx_paths = cached_onnx(features, model_name, weights=weights, cache_dir=cache_dir, state_sha=state_sha)
    fields = engine_cache_fields(onnx_cache_fields(features, model_name, state_sha), device, fp16, init_batch)
    files = ["features.engine", "init.engine"]
    crop_size = int(features.config.crop_size)

    def build(directory):
        for graph in ("features", "init"):
            log.info("fcot_ros: building TensorRT %s engine for %s (%s); this takes a few minutes once",
                     graph, model_name, fields["precision"])
            build_engine(onnx_paths[graph], directory / f"{graph}.engine", fp16=fp16, workspace_mb=workspace_mb,
                         crop_size=crop_size, init_batch=init_batch)

    directory = get_or_build("tensorrt", fields, files, build, cache_dir)
    paths = {g: directory / f"{g}.engine" for g in ("features", "init")}
    try:
        return TensorRTRuntime(paths, device, fields["precision"])
    except BackendError as exc:  # valid hashes but unusable (e.g. driver changed under the same versions)
        log.warning("fcot_ros: cached TensorRT engine unusable (%s); rebuilding it", exc)
        clear(directory)
        directory = get_or_build("tensorrt", fields, files, build, cache_dir)
        return TensorRTRuntime(paths, device, fields["precision"])
