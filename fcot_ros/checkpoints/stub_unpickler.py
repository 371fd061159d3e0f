"""Reading pickles that reference classes we do not have (the authors' ``ltr.*`` code).

The authors' trainer pickles its whole state: besides the tensors, a ``NetConstructor``, a
``Settings`` object, ``AverageMeter`` statistics, ... from ``ltr.*`` (and, in old files, the same
classes under the legacy name ``dlframework.*``). We do not ship, and must not need, their code.

``StubUnpickler.find_class`` resolves only a short allowlist of harmless globals for real (the
containers, dtypes and rebuild functions that tensors need); every other global, ``ltr.*`` and
``dlframework.*`` included, becomes a :class:`StubObject` subclass named after it, which accepts any
constructor arguments and any pickled state and executes nothing. So reading a file can never run
code named by the file, even though ``torch.load`` is called with ``weights_only=False`` (which is
required to pass a custom ``pickle_module``).

``STUB_PICKLE`` is the module-like object given to ``torch.load(..., pickle_module=STUB_PICKLE)``:
torch needs ``Unpickler`` (it subclasses it) and ``load`` (the legacy format reads its header with it).
"""
import builtins
import collections
import copyreg
import pickle
import types

import torch

# (module, name) pairs resolved for real. torch resolves "*Storage" names itself before asking us.
_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("collections", "defaultdict"): collections.defaultdict,
    ("collections", "deque"): collections.deque,
    ("copyreg", "_reconstructor"): copyreg._reconstructor,
    ("torch._utils", "_rebuild_tensor"): torch._utils._rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
    ("torch", "Size"): torch.Size,
    ("torch", "device"): torch.device,
}
for _name in ("set", "frozenset", "slice", "range", "complex", "bytearray", "bytes",
              "tuple", "list", "dict", "int", "float", "str", "bool"):
    _ALLOWED[("builtins", _name)] = getattr(builtins, _name)
    _ALLOWED[("__builtin__", _name)] = getattr(builtins, _name)  # Python 2 pickles


def _numpy_globals():
    """numpy's array/scalar reconstruction (statistics may hold numpy floats); absent without numpy."""
    try:
        import numpy as np
        try:
            from numpy._core import multiarray  # numpy 2
        except ImportError:  # pragma: no cover - numpy 1.x
            from numpy.core import multiarray
    except Exception:  # pragma: no cover - numpy is a dependency, but stay readable without it
        return {}
    found = {("numpy", "dtype"): np.dtype, ("numpy", "ndarray"): np.ndarray}
    for mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
        for name in ("_reconstruct", "scalar"):
            found[(mod, name)] = getattr(multiarray, name)
    return found


_ALLOWED.update(_numpy_globals())


class StubObject:
    """Stand-in for a pickled class we do not have: keeps whatever it is given, runs nothing.

    Attributes pickled in the object's ``__dict__`` become attributes of the stub (so
    ``ckpt['constructor'].kwds`` works); positional constructor arguments are kept in ``_stub_args``.
    """

    _stub_origin = "?"

    def __new__(cls, *args, **kwargs):
        """A stub that keeps its constructor arguments in ``_stub_args`` and ``_stub_kwargs``."""
        obj = super().__new__(cls)
        obj.__dict__["_stub_args"] = args
        obj.__dict__["_stub_kwargs"] = kwargs
        return obj

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        slots = None
        if isinstance(state, tuple) and len(state) == 2 and (state[0] is None or isinstance(state[0], dict)):
            state, slots = state
        for part in (state, slots):
            if isinstance(part, dict):
                for key, value in part.items():
                    if isinstance(key, str):
                        self.__dict__[key] = value
            elif part is not None:
                self.__dict__["_stub_state"] = part

    # Objects pickled through their __reduce__ may be "called" or appended to / updated like
    # containers; accept that quietly too.
    def __call__(self, *args, **kwargs):
        """Calling a stub (as a pickled ``__reduce__`` may) gives a new empty stub."""
        return StubObject()

    def append(self, item):
        """Keep ``item`` in ``_stub_items`` (for objects unpickled as lists)."""
        self.__dict__.setdefault("_stub_items", []).append(item)

    def extend(self, items):
        """Keep ``items`` in ``_stub_items`` (for objects unpickled as lists)."""
        self.__dict__.setdefault("_stub_items", []).extend(items)

    def __setitem__(self, key, value):
        self.__dict__.setdefault("_stub_mapping", {})[key] = value

    def __repr__(self):
        return f"<stub {self._stub_origin}>"


class StubUnpickler(pickle.Unpickler):
    """Unpickler that resolves allowlisted globals and replaces every other one by a stub class.

    ``stubbed`` collects the ``module.name`` of every global that was replaced.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stubbed = set()
        self._stub_classes = {}

    def find_class(self, module, name):
        """Allowlisted global, dtype attribute of ``torch``, or a stub class for anything else."""
        key = (module, name)
        if key in _ALLOWED:
            return _ALLOWED[key]
        if module == "torch" and isinstance(getattr(torch, name, None), torch.dtype):
            return getattr(torch, name)
        origin = f"{module}.{name}"
        self.stubbed.add(origin)
        _stubbed_log.add(origin)
        if key not in self._stub_classes:
            self._stub_classes[key] = type(str(name), (StubObject,), {"_stub_origin": origin})
        return self._stub_classes[key]


# Names stubbed since the last ``reset_stub_log()`` (torch creates its own Unpickler instances).
_stubbed_log = set()


def reset_stub_log():
    """Forget the names stubbed so far; returns nothing."""
    _stubbed_log.clear()


def stubbed_names():
    """Sorted ``module.name`` of the globals stubbed since the last ``reset_stub_log()``."""
    return sorted(_stubbed_log)


def _load(file, **kwargs):
    """``pickle.load`` through :class:`StubUnpickler` (torch's legacy format reads its header so)."""
    return StubUnpickler(file, **kwargs).load()


STUB_PICKLE = types.SimpleNamespace(Unpickler=StubUnpickler, load=_load, __name__="fcot_ros_stub_pickle")


def torch_load_with_stubs(path):
    """``torch.load`` of ``path`` on the CPU with every unknown class stubbed.

    Returns ``(obj, stubbed_names)``. Exceptions from torch/pickle propagate unchanged.
    """
    reset_stub_log()
    obj = torch.load(path, map_location="cpu", pickle_module=STUB_PICKLE, weights_only=False)
    return obj, stubbed_names()
