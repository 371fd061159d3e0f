"""Settings of the feature-network runtimes, and the one place that reads them from the environment.

| field            | environment variable     | meaning                                                   |
|------------------|--------------------------|-----------------------------------------------------------|
| cache_dir        | FCOT_CACHE_DIR           | root of the ONNX / TensorRT cache (default ~/.cache/fcot_ros) |
| ort_threads      | FCOT_ORT_THREADS         | ONNX Runtime intra-op threads (default: physical cores)   |
| ort_spin         | FCOT_ORT_SPIN=1          | let ONNX Runtime workers spin-wait between runs            |
| ort_arena        | FCOT_ORT_ARENA=1         | ONNX Runtime CPU memory arena (off: it never shrinks)      |
| trt_precision    | FCOT_TRT_PRECISION       | "fp16" (default) or "fp32" TensorRT engines                |
| trt_workspace_mb | FCOT_TRT_WORKSPACE_MB    | TensorRT builder workspace                                 |
| use_torch2trt    | FCOT_USE_TORCH2TRT=1     | try torch2trt before the ONNX -> TensorRT path             |

Explicit arguments win over the environment; the runtimes themselves read no environment variable.
"""
import os
from dataclasses import dataclass, fields, replace
from typing import Optional

from fcot_ros.errors import ConfigurationError

ENVIRONMENT = {"cache_dir": "FCOT_CACHE_DIR", "ort_threads": "FCOT_ORT_THREADS", "ort_spin": "FCOT_ORT_SPIN",
               "ort_arena": "FCOT_ORT_ARENA", "trt_precision": "FCOT_TRT_PRECISION",
               "trt_workspace_mb": "FCOT_TRT_WORKSPACE_MB", "use_torch2trt": "FCOT_USE_TORCH2TRT"}
TRT_PRECISIONS = ("fp16", "fp32")


@dataclass(frozen=True)
class RuntimeOptions:
    """Settings of the feature-network runtimes (fields and their environment variables: the module's table)."""

    cache_dir: Optional[str] = None
    ort_threads: Optional[int] = None
    ort_spin: bool = False
    ort_arena: bool = False
    trt_precision: str = "fp16"
    trt_workspace_mb: Optional[int] = None
    use_torch2trt: bool = False

    def __post_init__(self):
        if self.trt_precision not in TRT_PRECISIONS:
            raise ConfigurationError(f"TensorRT precision must be one of {TRT_PRECISIONS}, not {self.trt_precision!r}")
        for name in ("ort_threads", "trt_workspace_mb"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ConfigurationError(f"{name} must be a positive integer, not {value!r}")

    @classmethod
    def from_environment(cls, environ=None, **explicit) -> "RuntimeOptions":
        """Options from ``environ`` (default os.environ), then ``explicit`` (non-None values win)."""
        environ = os.environ if environ is None else environ
        values = {}
        for name, var in ENVIRONMENT.items():
            raw = environ.get(var)
            if raw in (None, ""):
                continue
            if name in ("ort_spin", "ort_arena", "use_torch2trt"):
                values[name] = raw == "1"
            elif name in ("ort_threads", "trt_workspace_mb"):
                try:
                    values[name] = int(raw)
                except ValueError as exc:
                    raise ConfigurationError(f"${var} must be an integer, not {raw!r}") from exc
            elif name == "trt_precision":
                values[name] = raw.strip().lower()
            else:
                values[name] = raw
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(explicit) - known)
        if unknown:
            raise ConfigurationError(f"unknown runtime option(s) {unknown}; choose from {sorted(known)}")
        values.update({k: v for k, v in explicit.items() if v is not None})
        return replace(cls(), **values)
