"""What torch cannot address: any tensor or parameter of the recurrent module past 2^63 − 1 bytes."""

from __future__ import annotations

import math
import re

from torchshape.errors import EnvironmentProblem
from torchshape.families.rnn.formulas import symbols, tensor_formulas
from torchshape.families.rnn.sizes import parameters_at_size
from torchshape.families.rnn.spec import FLAGS, RNNSpec
from torchshape.guard import addressable


def check_addressable(spec: RNNSpec) -> None:
    """Refuse any tensor or parameter whose size in bytes torch cannot represent."""
    sym = symbols(spec)
    itemsize = spec.dtype.itemsize
    shapes = [(f.name, f.formula, f.shape(sym)) for f in tensor_formulas(spec)]
    distinct: dict[str, tuple[str, str, tuple[int, ...]]] = {}  # layers above the first repeat
    for p, shape in parameters_at_size(spec):
        distinct.setdefault(p.formula, (p.name, p.formula, shape))
    shapes += distinct.values()
    for name, formula, shape in shapes:
        numel = math.prod(shape)
        if not addressable(numel, itemsize):
            raise EnvironmentProblem(
                f"{name} would have shape {shape}: {numel:.3g} elements of {itemsize} bytes "
                f"({spec.dtype.value}), beyond the 2^63 - 1 bytes a torch tensor can address; "
                f"use a smaller {' or '.join(_size_flags(spec, formula))}"
            )


# The flag behind each symbol of a formula, for messages that say what to change.
_SYMBOL_FLAGS = {
    "L": "seq_len",
    "N": "batch",
    "H_in": "input_size",
    "H_cell": "hidden_size",
    "num_layers": "num_layers",
}


def _size_flags(spec: RNNSpec, formula: str) -> list[str]:
    """The size flags that ``formula`` uses, largest value first."""
    used = set(re.findall(r"[A-Za-z_]+", formula))
    fields = [field for symbol, field in _SYMBOL_FLAGS.items() if symbol in used]
    if "H_out" in used:
        fields.append("proj_size" if spec.proj_size else "hidden_size")
    ordered = sorted(dict.fromkeys(fields), key=lambda field: -int(getattr(spec, field)))
    return [FLAGS[field] for field in ordered]
