"""The validated settings of one inspection: what the user asked for, checked once.

No torch here. ``make_spec`` turns raw values (from flags or the Python API) into
a frozen ``RNNSpec`` or raises ``UsageError`` naming the flag at fault.
"""

from __future__ import annotations

import math
import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

from torchshape.errors import UsageError


class Kind(str, Enum):
    """Which recurrent module to build."""

    GRU = "gru"
    LSTM = "lstm"
    RNN = "rnn"
    # One time step of one layer: nn.GRUCell, nn.LSTMCell, nn.RNNCell.
    GRU_CELL = "gru-cell"
    LSTM_CELL = "lstm-cell"
    RNN_CELL = "rnn-cell"

    @property
    def module_name(self) -> str:
        name = {"gru": "GRU", "lstm": "LSTM", "rnn": "RNN"}[self.layer.value]
        return name + "Cell" if self.is_cell else name

    @property
    def gates(self) -> int:
        """G: gates per cell (the row blocks of weight_ih / weight_hh)."""
        return {"gru": 3, "lstm": 4, "rnn": 1}[self.layer.value]

    @property
    def has_cell_state(self) -> bool:
        return self.layer is Kind.LSTM

    @property
    def is_cell(self) -> bool:
        """A one-step cell (nn.LSTMCell, ...) rather than a whole-sequence layer."""
        return self.value.endswith("-cell")

    @property
    def layer(self) -> Kind:
        """The whole-sequence layer this kind is, or steps through: LSTM_CELL → LSTM."""
        return Kind(self.value.removesuffix("-cell"))

    @property
    def has_nonlinearity(self) -> bool:
        """nn.RNN and nn.RNNCell take ``nonlinearity``; the gated kinds do not."""
        return self.layer is Kind.RNN


class Nonlinearity(str, Enum):
    TANH = "tanh"
    RELU = "relu"


class DType(str, Enum):
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    FLOAT16 = "float16"
    BFLOAT16 = "bfloat16"

    @property
    def itemsize(self) -> int:
        return {"float32": 4, "float64": 8, "float16": 2, "bfloat16": 2}[self.value]


class Format(str, Enum):
    TABLE = "table"
    MARKDOWN = "markdown"
    JSON = "json"
    CSV = "csv"
    SVG = "svg"
    PYTHON = "python"


DEFAULTS: dict[str, Any] = {
    "kind": Kind.LSTM,
    "input_size": 50,
    "hidden_size": 30,
    "num_layers": 1,
    "seq_len": 5,
    "batch": 3,
    "bidirectional": False,
    "batch_first": False,
    "proj_size": 0,
    "bias": True,
    "dropout": 0.0,
    "nonlinearity": None,
    "unbatched": False,
    "device": "cpu",
    "dtype": DType.FLOAT32,
    "lengths": None,
}

# The flag that sets each field, so every message names what the user typed.
FLAGS: dict[str, str] = {
    "kind": "--kind",
    "input_size": "--input-size",
    "hidden_size": "--hidden-size",
    "num_layers": "--layers",
    "seq_len": "--seq-len",
    "batch": "--batch",
    "bidirectional": "--bidir",
    "batch_first": "--batch-first",
    "proj_size": "--proj-size",
    "bias": "--no-bias",
    "dropout": "--dropout",
    "nonlinearity": "--nonlinearity",
    "unbatched": "--unbatched",
    "device": "--device",
    "dtype": "--dtype",
    "lengths": "--lengths",
}

# --time: timed runs, and untimed runs before them.
DEFAULT_REPEATS = 10
DEFAULT_WARMUP = 3

# Sizes beyond these are refused up front: torch indexes tensors with int64, and
# no recurrent layer of more layers than this has ever been worth building.
MAX_SIZE = 2**31 - 1
MAX_LAYERS = 1024

# The settings a cell (nn.LSTMCell, ...) has; the others belong to whole-sequence layers.
CELL_FIELDS = (
    "kind",
    "input_size",
    "hidden_size",
    "batch",
    "bias",
    "nonlinearity",
    "unbatched",
    "device",
    "dtype",
)

_DEVICE = re.compile(r"^(cpu|meta|mps|cuda(:\d{1,3})?)$")


@dataclass(frozen=True)
class RNNSpec:
    """One recurrent layer and the input it is fed, in PyTorch's own names."""

    kind: Kind
    input_size: int
    hidden_size: int
    num_layers: int
    seq_len: int  # 1 for a cell: one time step
    batch: int  # ignored when unbatched
    bidirectional: bool
    batch_first: bool
    proj_size: int
    bias: bool
    dropout: float
    nonlinearity: Nonlinearity | None  # RNN and RNNCell only; None means torch's default, tanh
    unbatched: bool
    device: str
    dtype: DType
    # --lengths: one real length per sequence, for a packed batch; None means unpacked.
    lengths: tuple[int, ...] | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values, in field order."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, Enum):
                out[key] = value.value
        if self.kind.has_nonlinearity and self.nonlinearity is None:
            out["nonlinearity"] = Nonlinearity.TANH.value
        if self.kind.is_cell:  # only the settings a cell has
            out = {key: value for key, value in out.items() if key in CELL_FIELDS}
        return out

    @property
    def module_call(self) -> str:
        """The constructor call that builds this module, as a user would write it."""
        args = [str(self.input_size), str(self.hidden_size)]
        if self.num_layers != 1:
            args.append(f"num_layers={self.num_layers}")
        if self.kind.has_nonlinearity and self.nonlinearity is Nonlinearity.RELU:
            args.append("nonlinearity='relu'")
        if not self.bias:
            args.append("bias=False")
        if self.batch_first:
            args.append("batch_first=True")
        if self.dropout:
            args.append(f"dropout={self.dropout:g}")
        if self.bidirectional:
            args.append("bidirectional=True")
        if self.proj_size:
            args.append(f"proj_size={self.proj_size}")
        return f"nn.{self.kind.module_name}({', '.join(args)})"


def _enum(cls: type[Enum], field: str, value: Any) -> Any:
    if isinstance(value, cls):
        return value
    try:
        return cls(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(str(m.value) for m in cls)
        raise _err(field, f"{value!r} is not one of {allowed}") from None


def _err(field: str, message: str) -> UsageError:
    return UsageError(FLAGS[field], message)


def _size(field: str, value: Any, *, minimum: int = 1, maximum: int = MAX_SIZE) -> int:
    number: int
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        digits = value.strip().lstrip("+-")
        if len(digits) > 30:  # Python refuses to parse thousands of digits; all are out of range
            raise _err(
                field,
                f"a number of {len(digits)} digits is out of range; "
                f"use a whole number from {minimum} to {maximum}",
            )
        number = int(value)
    else:
        raise _err(field, f"{value!r} is not a whole number; use one from {minimum} to {maximum}")
    if not minimum <= number <= maximum:
        raise _err(field, f"{number} is out of range; use a whole number from {minimum} to {maximum}")
    return number


def parse_format(value: str | Format | None, output: str | None = None) -> Format:
    """``--format``, checked like every other flag.

    Without ``--format``, the extension of ``--output FILE`` picks it (``OUTPUT_SUFFIXES``);
    with neither, the table.
    """
    if value is None:
        return format_for_path(output) if output is not None else Format.TABLE
    try:
        return value if isinstance(value, Format) else Format(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(f.value for f in Format)
        raise UsageError("--format", f"{value!r} is not one of {allowed}") from None


# What each format cannot carry: a flag whose output would be silently dropped is refused.
# CSV is one rectangular table of shapes (tensors, parameters, packed and step shapes,
# totals); the python script asserts shapes, relations and parameters and times nothing.
CANNOT_CARRY: dict[Format, dict[str, str]] = {
    Format.CSV: {
        "--explain": "CSV is one table of shapes and cannot carry the relations; "
        "use --format json, markdown or table",
        "--time": "CSV is one table of shapes and cannot carry the timings; "
        "use --format json, markdown or table",
    },
    Format.PYTHON: {
        "--time": "the python script builds and checks the module but times nothing; "
        "use --format json, markdown or table",
    },
}


def check_format_flags(fmt: Format, **flags: bool) -> None:
    """Refuse a flag whose output ``fmt`` cannot carry (``explain=True`` names ``--explain``)."""
    for name, given in flags.items():
        flag = "--" + name.replace("_", "-")
        if given and flag in CANNOT_CARRY.get(fmt, {}):
            raise UsageError(flag, f"not with --format {fmt.value}: {CANNOT_CARRY[fmt][flag]}")


# The file extensions ``--output`` understands when ``--format`` is not given.
OUTPUT_SUFFIXES: dict[str, Format] = {
    ".txt": Format.TABLE,
    ".md": Format.MARKDOWN,
    ".markdown": Format.MARKDOWN,
    ".json": Format.JSON,
    ".csv": Format.CSV,
    ".svg": Format.SVG,
    ".py": Format.PYTHON,
}


def format_for_path(path: str) -> Format:
    """The format that the extension of ``--output FILE`` asks for."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix in OUTPUT_SUFFIXES:
        return OUTPUT_SUFFIXES[suffix]
    known = ", ".join(s for s in OUTPUT_SUFFIXES if s != ".markdown")
    said = f"the extension {suffix!r}" if suffix else "a file without an extension"
    raise UsageError(
        "--output", f"cannot tell the format from {said} in {path!r}; use {known}, or give --format"
    )


def command_line(
    spec: RNNSpec,
    fmt: Format | None = None,
    *,
    explain: bool = False,
    unroll: bool = False,
    params: bool = False,
    timing: tuple[int, int] | None = None,
    output: str | None = None,
) -> str:
    """The ``torchshape rnn ...`` command that asks for exactly ``spec``, non-default flags only.

    With the output flags too: ``--explain``, ``--unroll``, ``--params``, ``--time``
    (``timing`` is its (repeats, warmup)), ``--format`` and ``--output``. Parsing it back
    through the command line gives an equal spec (a test checks it).
    """
    words = ["torchshape", "rnn"]
    for field, flag in FLAGS.items():
        value = getattr(spec, field)
        if field == "batch" and spec.unbatched:
            continue  # unbatched input has no batch; --batch would be refused
        if field == "batch" and spec.lengths is not None:
            continue  # N is the number of lengths
        if field == "seq_len" and spec.kind.is_cell and not unroll:
            continue  # a cell takes one step; --seq-len would be refused
        if field == "seq_len" and spec.lengths is not None:
            if value != max(spec.lengths):  # without --seq-len, L is the longest length
                words += [flag, str(value)]
            continue
        if field == "lengths":
            if value is not None:
                words += [flag, ",".join(str(n) for n in value)]
        elif field == "nonlinearity":
            if value is not None:  # None is torch's default; an explicit tanh is kept as given
                words += [flag, value.value]
        elif field == "bias":
            if not value:
                words.append(flag)  # --no-bias
        elif isinstance(value, bool):
            if value:
                words.append(flag)
        elif value != DEFAULTS[field]:
            text = repr(value) if isinstance(value, float) else str(getattr(value, "value", value))
            words += [flag, text]
    if explain:
        words.append("--explain")
    if unroll:
        words.append("--unroll")
    if params:
        words.append("--params")
    if timing is not None:
        repeats, warmup = timing
        words.append("--time")
        words += ["--repeats", str(repeats)] if repeats != DEFAULT_REPEATS else []
        words += ["--warmup", str(warmup)] if warmup != DEFAULT_WARMUP else []
    implied = Format.TABLE
    if output is not None:
        words += ["--output", output]
        implied = OUTPUT_SUFFIXES.get(os.path.splitext(output)[1].lower(), Format.TABLE)
    if fmt is not None and fmt is not implied:
        words += ["--format", fmt.value]
    return " ".join(shlex.quote(word) for word in words)


def make_spec(*, unroll: bool = False, names: Mapping[str, str] | None = None, **raw: Any) -> RNNSpec:
    """Validate raw settings (missing ones take ``DEFAULTS``) into an ``RNNSpec``.

    Raises ``UsageError`` for any bad value or combination, naming the Python argument
    (``proj_size=3: ...``); the command line passes ``names=FLAGS`` to name its flags.
    ``unroll``: the spec is for ``--unroll``, where a cell takes ``seq_len`` (L steps,
    the layers' default without it); otherwise a cell has ``seq_len`` 1 and refuses it.
    """
    if names is FLAGS:
        return _make_spec(raw, unroll)
    from torchshape.python_names import in_python_terms

    try:
        return _make_spec(raw, unroll)
    except UsageError as error:
        raise in_python_terms(error, raw) from None


def _make_spec(raw: dict[str, Any], unroll: bool) -> RNNSpec:
    unknown = set(raw) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    batch_given = raw.get("batch") is not None
    seq_len_given = raw.get("seq_len") is not None
    values = {**DEFAULTS, **{k: v for k, v in raw.items() if v is not None}}

    kind: Kind = _enum(Kind, "kind", values["kind"])
    input_size = _size("input_size", values["input_size"])
    hidden_size = _size("hidden_size", values["hidden_size"])
    num_layers = _size("num_layers", values["num_layers"], maximum=MAX_LAYERS)
    seq_len = _size("seq_len", values["seq_len"])
    batch = _size("batch", values["batch"])
    proj_size = _size("proj_size", values["proj_size"], minimum=0)
    dtype: DType = _enum(DType, "dtype", values["dtype"])

    dropout = values["dropout"]
    try:
        dropout = float(dropout)
    except (TypeError, ValueError):
        raise _err("dropout", f"{dropout!r} is not a number; use a probability in [0, 1)") from None
    if not (math.isfinite(dropout) and 0.0 <= dropout < 1.0):
        raise _err("dropout", f"{dropout:g} is outside [0, 1); use a probability such as 0.2")

    if kind.is_cell:
        from torchshape.cells import reject_layer_settings

        reject_layer_settings(
            kind,
            num_layers=num_layers,
            seq_len_given=seq_len_given,
            bidirectional=bool(values["bidirectional"]),
            batch_first=bool(values["batch_first"]),
            proj_size=proj_size,
            dropout=dropout,
            lengths_given=values["lengths"] is not None,
            unroll=unroll,
        )
        if not unroll:
            seq_len = 1  # a cell takes one time step; with --unroll, L is how many it is looped over

    nonlinearity = values["nonlinearity"]
    if nonlinearity is not None:
        nonlinearity = _enum(Nonlinearity, "nonlinearity", nonlinearity)
        if not kind.has_nonlinearity:
            raise _err(
                "nonlinearity",
                f"only --kind rnn and rnn-cell have a nonlinearity; nn.{kind.module_name} has fixed gates",
            )

    if proj_size:
        if kind is not Kind.LSTM:
            raise _err("proj_size", f"only --kind lstm supports a projection; nn.{kind.module_name} has none")
        if proj_size >= hidden_size:
            raise _err(
                "proj_size",
                f"{proj_size} must be smaller than --hidden-size ({hidden_size}); use 0 for none",
            )

    unbatched = bool(values["unbatched"])
    if unbatched and batch_given:
        raise _err("batch", "unbatched input has no batch dimension; drop --batch or --unbatched")

    device = str(values["device"]).strip().lower()
    if not _DEVICE.match(device):
        raise _err("device", f"{values['device']!r} is not a device; use cpu, cuda, cuda:N, mps or meta")

    if unbatched and values["lengths"] is not None:
        raise _err("lengths", "unbatched input has no batch to pack; drop --unbatched or --lengths")
    lengths = _lengths(
        values["lengths"], seq_len=seq_len if seq_len_given else None, batch=batch if batch_given else None
    )
    if lengths is not None:
        batch = len(lengths)  # without --batch, N is the number of lengths
        if not seq_len_given:
            seq_len = max(lengths)  # without --seq-len, the longest sequence says how long the batch is

    return RNNSpec(
        kind=kind,
        input_size=input_size,
        hidden_size=hidden_size,
        num_layers=num_layers,
        seq_len=seq_len,
        batch=batch,
        bidirectional=bool(values["bidirectional"]),
        batch_first=bool(values["batch_first"]),
        proj_size=proj_size,
        bias=bool(values["bias"]),
        dropout=dropout,
        nonlinearity=nonlinearity,
        unbatched=unbatched,
        device=device,
        dtype=dtype,
        lengths=lengths,
    )


def _lengths(value: Any, *, seq_len: int | None, batch: int | None) -> tuple[int, ...] | None:
    """``--lengths 5,3,2``: one length per sequence, N of them when --batch is given.

    Lengths are separated by commas (spaces around them are allowed); an empty item or
    lengths separated by spaces only is refused. Each is from 1 to L when ``--seq-len``
    gives L; without it, L is max(lengths).
    """
    if value is None:
        return None
    items: list[Any]
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise _err("lengths", "no lengths given; give one per sequence, such as 5,3,2")
        items = [item.strip() for item in text.split(",")]
        if "" in items:
            raise _err(
                "lengths",
                f"an empty length in {value!r}; give one whole number per sequence, such as 5,3,2",
            )
        for item in items:
            if re.fullmatch(r"[+-]?\d+(\s+[+-]?\d+)+", item):
                fixed = ",".join(item.split())
                raise _err("lengths", f"separate lengths with commas, not spaces: {fixed}")
    else:
        try:
            items = list(value)
        except TypeError:
            items = [value]
    if not items:
        raise _err("lengths", "no lengths given; give one per sequence, such as 5,3,2")
    longest = MAX_SIZE if seq_len is None else seq_len
    out: list[int] = []
    for item in items:
        if isinstance(item, bool) or not (
            isinstance(item, int)
            or (isinstance(item, float) and item.is_integer())
            or (isinstance(item, str) and re.fullmatch(r"[+-]?\d{1,30}", item))
        ):
            raise _err("lengths", f"{item!r} is not a whole number; give lengths such as 5,3,2")
        number = int(item)
        if number < 1:
            bound = "1 or more" if seq_len is None else f"from 1 to L = {seq_len}"
            raise _err("lengths", f"{number} is out of range; every length must be {bound}")
        if number > longest:
            if seq_len is None:
                raise _err("lengths", f"{number} is out of range; every length must be from 1 to {MAX_SIZE}")
            raise _err(
                "lengths",
                f"{number} is longer than --seq-len ({seq_len}); every length must be from 1 to L, "
                "so raise --seq-len, drop it (L is then the longest length), or shorten the sequence",
            )
        out.append(number)
    if batch is not None and len(out) != batch:
        raise _err(
            "lengths",
            f"{len(out)} length(s) for --batch {batch}; give exactly one per sequence, or drop --batch",
        )
    return tuple(out)
