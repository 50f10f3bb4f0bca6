"""Import the user's model: ``path/to/file.py:Name`` or ``package.module:Name``.

Importing runs the user's code, as ``python file.py`` would. A missing file, module or name
is a bad argument (exit 2); the user's code failing at import is the model's failure (exit 1).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
from typing import Any

from torchshape.errors import TorchshapeError, UsageError
from torchshape.families.model.spec import ModelSpec


class ModelFailed(TorchshapeError):
    """The model's own code raised, at import, construction or in forward (exit 1).

    From ``torchshape.trace``, ``report`` holds the trace up to the failing call and its
    diagnosis (``report.probe.analysis.diagnosis``); None at import or construction."""

    exit_code = 1

    def __init__(self, message: str, report: Any = None) -> None:
        super().__init__(message)
        self.report = report


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def import_target(spec: ModelSpec) -> Any:
    """The object that ``spec.target`` names."""
    if spec.path is not None:
        path = os.path.abspath(spec.path)
        if not os.path.isfile(path):
            raise UsageError("TARGET", f"{spec.path!r}: no such file")
        name = "torchshape_model_" + os.path.splitext(os.path.basename(path))[0].replace("-", "_")
        loader_spec = importlib.util.spec_from_file_location(name, path)
        assert loader_spec is not None and loader_spec.loader is not None
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[name] = module  # dataclasses and pickling look the module up by name
        folder = os.path.dirname(path)
        sys.path.insert(0, folder)  # its own imports of neighbouring files work, as with `python file.py`
        try:
            loader_spec.loader.exec_module(module)
        except Exception as exc:
            raise ModelFailed(f"the model failed at import of {spec.path}: {first_line(exc)}") from exc
        finally:
            if sys.path and sys.path[0] == folder:
                sys.path.pop(0)
    else:
        assert spec.module is not None
        try:
            module = importlib.import_module(spec.module)
        except ModuleNotFoundError as exc:
            if exc.name is not None and spec.module.startswith(exc.name):
                raise UsageError("TARGET", f"no module named {exc.name!r}") from None
            raise ModelFailed(f"the model failed at import of {spec.module}: {first_line(exc)}") from exc
        except Exception as exc:
            raise ModelFailed(f"the model failed at import of {spec.module}: {first_line(exc)}") from exc
    found: Any = module
    for part in spec.name.split("."):
        if not hasattr(found, part):
            where = spec.path or spec.module
            raise UsageError("TARGET", f"{where} has no {spec.name!r}")
        found = getattr(found, part)
    return found


def build_model(spec: ModelSpec, found: Any) -> Any:
    """An nn.Module from what the target names: a class (built with the --arg keywords), a
    function returning a module, or a module object."""
    from torch import nn

    keywords = dict(spec.args)
    if isinstance(found, nn.Module):
        if keywords:
            raise UsageError("--arg", f"{spec.name} is a module object already; it takes no --arg")
        return found
    if not callable(found):
        raise UsageError(
            "TARGET", f"{spec.name} is a {type(found).__name__}, not an nn.Module, class or function"
        )
    if keywords:
        try:
            inspect.signature(found).bind_partial(**keywords)
        except TypeError as exc:
            raise UsageError("--arg", f"{spec.name}: {exc}") from None
        except ValueError:
            pass  # no signature to check against: let the call say
    try:
        model = found(**keywords)
    except Exception as exc:
        raise ModelFailed(f"the model failed when built ({spec.name}): {first_line(exc)}") from exc
    if not isinstance(model, nn.Module):
        raise UsageError("TARGET", f"{spec.name}(...) returned a {type(model).__name__}, not an nn.Module")
    return model
