"""Assembly of trackers from names (the one room that knows every model and backend): the model and
backend registries, model loading from checkpoints, runtime choice with its fallback chain, and the
runtime options read from the environment. api.py, the CLI, the evaluation tools and the ROS
parameters use it; the tracker and the runtimes below it do no file I/O or choosing of their own.
"""
from fcot_ros.assembly.model_loading import load_model, resolve_device
from fcot_ros.assembly.registry import (
                                        BACKENDS,
                                        FCOT_MODEL_NAMES,
                                        MODEL_NAMES,
                                        MODELS,
                                        check_backend,
                                        model_spec,
                                        resolve_weights,
)
from fcot_ros.assembly.runtime_options import RuntimeOptions
from fcot_ros.assembly.runtimes import build_runtime, fallback_chain
from fcot_ros.assembly.trackers import build_tracker, crop_settings

__all__ = ["BACKENDS", "FCOT_MODEL_NAMES", "MODELS", "MODEL_NAMES", "RuntimeOptions", "build_runtime",
           "build_tracker", "check_backend", "crop_settings", "fallback_chain", "load_model", "model_spec",
           "resolve_device", "resolve_weights"]
