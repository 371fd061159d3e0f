"""Training recipes: a YAML file (training/configs/*.yaml) read into typed, frozen dataclasses.

Unknown keys are refused with the path of the key (``data.sources[1].wieght``); ``--set a.b=value``
overrides any field (the value is parsed as YAML); every run writes the resolved recipe
(``config.yaml``) beside its checkpoints. Paths in a recipe are relative to the repository root
unless absolute (``resolve_path``).
"""
import dataclasses
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

from fcot_ros.errors import ConfigurationError
from fcot_ros.target_model.solvers import REG_SOLVERS

REPO_ROOT = Path(__file__).resolve().parents[1]


class RecipeError(ConfigurationError):
    """A training recipe with an unknown key, a value of the wrong type, or a contradiction."""


@dataclass(frozen=True)
class SourceConfig:
    """One training data source: reader kind, root, sampling weight, reader options and the split it takes."""

    kind: str                                  # a key of training.data.sources.SOURCES (recipe kinds)
    root: str
    weight: float = 1.0                        # sampling weight of this source
    options: Dict[str, Any] = field(default_factory=dict)   # reader options (load_source)
    static_images: bool = False                # use every visible frame as a still image (COCO style)
    split: str = "train"                       # "train": sequences not in the split file's
                                               # validation list; "val": only those; "all"


@dataclass(frozen=True)
class JitterConfig:
    """Box jitter before cropping: max centre shift (in sqrt(w h) of the box) and std of the log size change."""

    center: float                              # max centre shift, in units of sqrt(w h) of the jittered box
    scale: float                               # std of log size change


@dataclass(frozen=True)
class DataConfig:
    """The ``data`` section of a recipe: sources, validation split, frame sampling, crop and augmentation settings."""

    sources: Tuple[SourceConfig, ...]
    split_file: Optional[str] = None           # validation videos, one per line (training/splits/)
    samples_per_epoch: int = 26000             # sequences (each 3 train + 3 test frames) per epoch
    num_train_frames: int = 3
    num_test_frames: int = 3
    max_gap: int = 30                          # frames between the first train and last test frame
    gap_increase: int = 5                      # added to max_gap after each failed draw
    search_area_factor: float = 5.0            # crop side = sqrt(w h) of the jittered box * this
    train_jitter: JitterConfig = JitterConfig(center=3.0, scale=0.25)
    test_jitter: JitterConfig = JitterConfig(center=4.5, scale=0.5)
    grayscale_probability: float = 0.05        # all frames of a sample at once
    brightness_jitter: float = 0.2             # factor in [1 - b, 1 + b], per frame set
    min_visible_frames: int = 2                # sequences with fewer usable frames are not drawn
    workers: int = 0                           # DataLoader worker processes
    resample_every_epoch: bool = True          # False: every epoch repeats epoch 0's samples (overfit checks)


@dataclass(frozen=True)
class BranchLossConfig:
    """Loss weights of one branch (cls18, cls72, reg): last iterate, initial filter, intermediate iterates."""

    final: float = 0.0                         # weight of the last iterate
    init: float = 0.0                          # weight of the initial filter's output
    iter: float = 0.0                          # total weight of the intermediate iterates


@dataclass(frozen=True)
class LossConfig:
    """The ``loss`` section: branch weights, hinge threshold, label sigmas (feature cells), regression radius."""

    cls18: BranchLossConfig = BranchLossConfig()
    cls72: BranchLossConfig = BranchLossConfig()
    reg: BranchLossConfig = BranchLossConfig()
    hinge_threshold: float = 0.05              # LBHinge: labels below this are negatives
    cls18_sigma_factor: float = 0.05           # label sigma = factor * 18 cells
    cls72_sigma_factor: float = 0.025          # = 1/40, label sigma = factor * 72 cells
    reg_radius: int = 2                        # IoU loss over the (2R+1)^2 cells around the centre


@dataclass(frozen=True)
class ParamGroupConfig:
    """One optimizer parameter group: the module prefixes it holds and their learning rate."""

    modules: Tuple[str, ...]                   # module prefixes, e.g. ["cls18.head", "cls18.initializer"]
    lr: float


@dataclass(frozen=True)
class OptimConfig:
    """The ``optim`` section: Adam parameter groups, epochs, MultiStepLR milestones and gamma, decay, clipping."""

    param_groups: Tuple[ParamGroupConfig, ...]
    epochs: int = 1
    milestones: Tuple[int, ...] = ()           # MultiStepLR, stepped per epoch
    gamma: float = 0.2
    betas: Tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.0
    grad_clip: Optional[float] = None          # the paper uses none


@dataclass(frozen=True)
class ModelConfig:
    """The ``model`` section: registry name, config overrides, start weights, trained modules, optimizer steps."""

    name: str                                  # a model of fcot_ros.assembly.registry
    settings: Dict[str, Any] = field(default_factory=dict)   # NetworkConfig overrides (models.config)
    init_weights: Optional[str] = None         # start from this checkpoint (ours or the authors')
    init_dimp: Optional[str] = None            # then take backbone and cls18 from DiMP-50's dimp50.pth
    train: Tuple[str, ...] = ()                # module prefixes that train; everything else is frozen
    freeze_bn: bool = False                    # keep BatchNorm statistics fixed (eval mode) when asked
    num_iter: int = 5                          # classifier optimizer steps in the training forward
    reg_num_iter: int = 0                      # regression optimizer steps (0: the RMG filter only)
    reg_solver: str = "steepest_descent"       # or "exact": the regression filter is solved on the train frames
    branches: Tuple[str, ...] = ("cls18", "cls72", "reg")


@dataclass(frozen=True)
class RunConfig:
    """The ``run`` section: output folder, seed, batch size, device, precision, checkpointing, logging and limits."""

    out_dir: str = "runs/unnamed"
    seed: int = 0
    batch_size: int = 8                        # sequences per optimizer step and process
    device: str = "auto"                       # "auto" | "cpu" | "cuda"
    amp: bool = True                           # bf16 autocast of the feature network on CUDA (fp32 on CPU)
    threads: int = 0                           # torch intra-op threads on CPU (0: all cores of this process)
    checkpoint_every: int = 1                  # epochs
    log_every: int = 10                        # steps between TensorBoard scalars
    export: bool = True                        # ONNX (and TensorRT on a GPU) of the result at the end
    max_steps: int = 0                         # stop after this many optimizer steps (0: run all epochs)
    max_minutes: float = 0.0                   # stop after this much training wall time (0: no limit); the
                                               # run ends as on SIGINT: checkpoint_last.pt, resumable
    progress: bool = True                      # tqdm bar on rank 0


@dataclass(frozen=True)
class Recipe:
    """A whole training recipe (model, data, loss, optimizer, run settings), as read from a YAML file."""

    model: ModelConfig
    data: DataConfig
    loss: LossConfig
    optim: OptimConfig
    run: RunConfig = RunConfig()
    description: str = ""


# ------------------------------------------------------------------ reading and writing
def _is_dataclass_type(tp) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _build(cls, data, where):
    """``cls`` from a dict, refusing unknown keys (named with their path) and missing required ones."""
    if not isinstance(data, dict):
        raise RecipeError(f"{where or 'recipe'}: expected a mapping for {cls.__name__}, got {type(data).__name__}")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise RecipeError(f"unknown key(s) {', '.join(f'{where}.{k}'.lstrip('.') for k in unknown)}; "
                          f"{where or 'the recipe'} has {', '.join(sorted(known))}")
    values = {}
    for name, f in known.items():
        path = f"{where}.{name}".lstrip(".")
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise RecipeError(f"{path} is required")
            continue
        values[name] = _convert(f.type, data[name], path)
    return cls(**values)


def _convert(tp, value, where):
    """``value`` checked (and converted) against the field type ``tp``."""
    if _is_dataclass_type(tp):
        return _build(tp, value, where)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Union:                                   # Optional[X]
        if value is None:
            return None
        return _convert(next(a for a in args if a is not type(None)), value, where)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise RecipeError(f"{where}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise RecipeError(f"{where}: expected {len(args)} values, got {len(value)}")
        return tuple(_convert(t, v, f"{where}[{i}]") for i, (t, v) in enumerate(zip(args, value)))
    if origin is dict:
        if not isinstance(value, dict):
            raise RecipeError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise RecipeError(f"{where}: expected true or false, got {value!r}")
    elif tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise RecipeError(f"{where}: expected an integer, got {value!r}")
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RecipeError(f"{where}: expected a number, got {value!r}")
        return float(value)
    elif tp is str:
        if not isinstance(value, str):
            raise RecipeError(f"{where}: expected a string, got {value!r}")
    return value


def _set_path(data: dict, dotted: str, value):
    """data[a][b][c] = value for dotted = "a.b.c" (list items by index: "data.sources.0.weight")."""
    keys = dotted.split(".")
    node = data
    for key in keys[:-1]:
        if isinstance(node, list):
            node = node[int(key)]
        else:
            node = node.setdefault(key, {})
    last = keys[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def load_recipe(path, overrides: List[str] = ()) -> Recipe:
    """The recipe of a YAML file with ``overrides`` ("key.path=yaml value") applied."""
    path = Path(path)
    if not path.is_file():
        raise RecipeError(f"recipe {path} not found")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise RecipeError(f"{path} is not valid YAML: {exc}") from exc
    for item in overrides:
        if "=" not in item:
            raise RecipeError(f"--set takes key=value, got {item!r}")
        key, raw = item.split("=", 1)
        try:
            _set_path(data, key.strip(), yaml.safe_load(raw))
        except (ValueError, IndexError, TypeError, AttributeError) as exc:
            raise RecipeError(f"--set {item}: no such place in the recipe ({exc})") from exc
    return validate(_build(Recipe, data, ""))


def validate(recipe: Recipe) -> Recipe:
    """Checks across fields (the per-field types are checked while reading)."""
    from fcot_ros.assembly.registry import FCOT_MODEL_NAMES
    from training.data.sources import SOURCES
    if recipe.model.name not in FCOT_MODEL_NAMES:
        raise RecipeError(f"model.name {recipe.model.name!r} is not an FCOT model ({', '.join(FCOT_MODEL_NAMES)})")
    if recipe.model.reg_solver not in REG_SOLVERS:
        raise RecipeError(f"model.reg_solver must be one of {', '.join(REG_SOLVERS)}, not {recipe.model.reg_solver!r}")
    for i, source in enumerate(recipe.data.sources):
        if source.kind not in SOURCES:
            raise RecipeError(f"data.sources[{i}].kind {source.kind!r} is not one of {', '.join(SOURCES)}")
        if source.split not in ("train", "val", "all"):
            raise RecipeError(f"data.sources[{i}].split must be train, val or all")
        if source.weight <= 0:
            raise RecipeError(f"data.sources[{i}].weight must be > 0")
    if not recipe.data.sources:
        raise RecipeError("data.sources is empty")
    if recipe.run.max_minutes < 0:
        raise RecipeError("run.max_minutes must be >= 0 (0: no time limit)")
    if recipe.run.batch_size < 1 or recipe.data.samples_per_epoch < 1 or recipe.optim.epochs < 1:
        raise RecipeError("run.batch_size, data.samples_per_epoch and optim.epochs must be >= 1")
    if not recipe.model.train:
        raise RecipeError("model.train names no module: nothing would train")
    unknown = sorted(set(recipe.model.branches) - {"cls18", "cls72", "reg"})
    if unknown:
        raise RecipeError(f"model.branches: unknown branch(es) {unknown}")
    return recipe


def recipe_to_dict(recipe: Recipe) -> dict:
    """Plain nested dict (lists for tuples) of a recipe, as written to config.yaml."""
    def plain(value):
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value
    return plain(dataclasses.asdict(recipe))


def write_recipe(recipe: Recipe, path) -> None:
    """Write ``recipe`` as YAML to ``path`` (the resolved config.yaml of a run; keys in field order)."""
    Path(path).write_text(yaml.safe_dump(recipe_to_dict(recipe), sort_keys=False))


def resolve_path(path) -> Path:
    """A recipe path: absolute as is, else relative to the repository root."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else REPO_ROOT / p
