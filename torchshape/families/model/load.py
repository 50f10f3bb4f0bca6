"""Import the user's model: ``path/to/file.py:Name`` or ``package.module:Name``.

Importing runs the user's code, as ``python file.py`` would. A missing file, module or name
is a bad argument (exit 2); the user's code failing at import is the model's failure (exit 1).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from torchshape.contain import message, no_exit
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


def import_target(spec: ModelSpec) -> Any:
    """The object that ``spec.target`` names: an nn.Module class or object, or a function or
    callable defined in the file or module it names (``check_target``)."""
    if spec.path is not None:
        module = _import_file(spec)
    else:
        assert spec.module is not None
        with _importing(os.getcwd(), spec.module, module=spec.module):
            module = importlib.import_module(spec.module)
    found: Any = module
    for part in spec.name.split("."):
        if not hasattr(found, part):
            where = spec.path or spec.module
            raise UsageError("TARGET", f"{where} has no {spec.name!r}")
        found = getattr(found, part)
    check_target(spec, module, found)
    return found


def _import_file(spec: ModelSpec) -> Any:
    assert spec.path is not None
    path = os.path.abspath(spec.path)
    if not os.path.isfile(path):
        raise UsageError("TARGET", f"{spec.path!r}: no such file")
    if not path.endswith(".py"):
        raise UsageError(
            "TARGET", f"{spec.path!r} is not a .py file; name a Python source file: path/to/file.py:Name"
        )
    name = "torchshape_model_" + os.path.splitext(os.path.basename(path))[0].replace("-", "_")
    loader_spec = importlib.util.spec_from_file_location(name, path)
    if loader_spec is None or loader_spec.loader is None:  # pragma: no cover - a .py file always loads
        raise UsageError("TARGET", f"{spec.path!r}: Python cannot import this file")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    # its own imports of neighbouring files work, as with `python file.py`
    with _importing(os.path.dirname(path), spec.path):
        loader_spec.loader.exec_module(module)
    return module


@contextmanager
def _importing(folder: str, what: str, *, module: str | None = None) -> Iterator[None]:
    """An import of the user's code with ``folder`` first on the path: ``python -m`` puts the
    current directory there for ``package.module`` (the ``torchshape`` script's own folder is
    what Python puts there otherwise). ``module`` not found is a bad TARGET; anything else the
    code raises is the model's failure."""
    sys.path.insert(0, folder)
    try:
        with no_exit(f"at import of {what}"):
            yield
    except TorchshapeError:
        raise
    except Exception as exc:
        missing = exc.name if isinstance(exc, ModuleNotFoundError) else None
        if module is not None and missing and f"{module}.".startswith(f"{missing}."):  # itself or a parent
            raise UsageError("TARGET", f"no module named {missing!r}") from None
        raise ModelFailed(f"the model failed at import of {what}: {message(exc)}") from exc
    finally:
        if sys.path and sys.path[0] == folder:
            sys.path.pop(0)


def check_target(spec: ModelSpec, module: Any, found: Any) -> None:
    """Refuse (exit 2, naming TARGET) what is not an nn.Module class or object, nor a function or
    callable defined in the imported file or module: ``os:system`` or ``sys:exit`` run no model."""
    from torch import nn

    if isinstance(found, nn.Module):
        return
    if inspect.isclass(found):
        if issubclass(found, nn.Module):
            return
        raise UsageError("TARGET", f"{spec.target}: {spec.name} is a class but not an nn.Module subclass")
    where = spec.path or spec.module
    kind = _callable_kind(found)
    if kind is None:
        raise UsageError(
            "TARGET",
            f"{spec.target}: {spec.name} is a {type(found).__name__}, not an nn.Module class or object, "
            "nor a function that returns one",
        )
    home = _defined_in(found)
    rule = "TARGET names an nn.Module class or object, or a function of your own code that returns one"
    if home is None or home != module.__name__:
        shown = "" if home is None else f" defined in {home}, not in {where}"
        raise UsageError("TARGET", f"{spec.target}: {spec.name} is {kind}{shown}; {rule}")
    if home.partition(".")[0] in _NOT_MODEL_CODE:
        raise UsageError(
            "TARGET", f"{spec.target}: {spec.name} is {kind} of {home.partition('.')[0]}, not a model; {rule}"
        )


# Functions of these packages build no model of the user's, and some act on files and processes
# (``shutil:rmtree``, ``subprocess:run``): TARGET may name their nn.Module classes, not their functions.
_NOT_MODEL_CODE = frozenset(sys.stdlib_module_names) | {"torch", "torchshape", "typer", "click", "rich"}


def _callable_kind(found: Any) -> str | None:
    if inspect.isbuiltin(found):
        return "a built-in function"
    if inspect.isfunction(found) or inspect.ismethod(found):
        return "a function"
    if isinstance(found, functools.partial):
        return "a partial"
    if callable(found):
        return "a callable"
    return None


def _defined_in(found: Any) -> str | None:
    """The module that defined a function, method, partial's function or callable object's class."""
    if inspect.isbuiltin(found):
        return None
    if isinstance(found, functools.partial):
        return _defined_in(found.func)
    if inspect.ismethod(found):
        return _defined_in(found.__func__)
    if inspect.isfunction(found):
        return str(getattr(found, "__module__", None))
    home = getattr(type(found), "__module__", None)
    return None if home == "builtins" else str(home)


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
        with no_exit(f"when built ({spec.name})"):
            model = found(**keywords)
    except TorchshapeError:
        raise
    except Exception as exc:
        raise ModelFailed(f"the model failed when built ({spec.name}): {message(exc)}") from exc
    if not isinstance(model, nn.Module):
        raise UsageError("TARGET", f"{spec.name}(...) returned a {type(model).__name__}, not an nn.Module")
    return model
