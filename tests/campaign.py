"""The campaign: whole command lines drawn at random, and what every one of them must end in.

``command_lines`` draws valid and invalid values for every flag (zero, negative,
huge integers such as 10^20, non-numbers, empty strings, NaN and inf, malformed
``--lengths``, devices this machine lacks) in random combinations with every
boolean flag, format and ``--output`` target. ``outcome_problems`` says what is
wrong with one run: it must exit 0 with every shape verified by torch, or exit 2
(bad usage) or 1 (environment) with one line that names a flag, and nothing else.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import xml.dom.minidom
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

FLAGS = [
    *("--kind", "--input-size", "--hidden-size", "--layers", "--seq-len", "--batch", "--proj-size"),
    *("--dropout", "--nonlinearity", "--device", "--dtype", "--format", "--output", "--lengths"),
    *("--repeats", "--warmup"),
]
SWITCHES = [
    *("--bidir", "--batch-first", "--no-bias", "--unbatched", "--explain", "--unroll", "--params"),
    *("--time", "--debug"),
]
# PyTorch's own names, accepted beside the short ones.
ALIASES = st.sampled_from([["--num-layers", "2"], ["--bidirectional"], ["--batch-size", "2"]])
KNOWN_FLAGS = set(FLAGS) | set(SWITCHES) | {"--num-layers", "--bidirectional", "--batch-size", "--help"}
# torchshape embedding's own flags (``embedding_command_lines``)
EMBEDDING_FLAGS = [
    *("--num-embeddings", "--embedding-dim", "--shape", "--padding-idx", "--max-norm", "--mode"),
    *("--bags", "--bag-size", "--offsets", "--device", "--dtype", "--format", "--output"),
    *("--repeats", "--warmup"),
]
EMBEDDING_SWITCHES = [
    *("--bag", "--include-last-offset", "--per-sample-weights", "--explain", "--params", "--time"),
]
KNOWN_FLAGS |= set(EMBEDDING_FLAGS) | set(EMBEDDING_SWITCHES)

# Text no integer flag takes: signs, decimals, other scripts' digits, overflow.
NOT_A_COUNT = [
    "", " ", "abc", "1.5", "3.0", "1e3", "nan", "inf", "-inf", "0x10", "٣", "3_000", "+3", " 3",
    "10**20", "1,2",
]  # fmt: skip
HUGE = ["100000000000000000000", "2147483648", "9223372036854775808", "99999999999999999999999999"]
OUTPUTS = [
    *("out.md", "out.json", "out.csv", "out.svg", "out.py", "out.txt", "out.xyz", "out"),
    *("missing/out.md", "docs/shapes/out.json", "."),
]
SIZES = st.one_of(
    st.integers(1, 9).map(str),
    st.sampled_from(["17", "64", "2147483647", "0", "-1", "-7", *HUGE, *NOT_A_COUNT]),
)
VALUES: dict[str, Any] = {
    "--kind": st.sampled_from(
        ["lstm", "gru", "rnn", "lstm-cell", "gru-cell", "rnn-cell", "LSTM", "", "transformer", "lstm-cel"]
    ),
    "--input-size": SIZES,
    "--hidden-size": SIZES,
    "--layers": st.one_of(SIZES, st.sampled_from(["1024", "1025"])),
    "--seq-len": st.one_of(SIZES, st.sampled_from(["100000"])),
    "--batch": SIZES,
    "--proj-size": st.one_of(st.just("0"), SIZES),
    "--dropout": st.sampled_from(
        [
            "0",
            "0.2",
            "0.5",
            "0.999",
            "1",
            "1.0",
            "-0.1",
            "nan",
            "NaN",
            "inf",
            "-inf",
            "1e-3",
            "",
            "abc",
            "0x1",
        ]
    ),
    "--nonlinearity": st.sampled_from(["tanh", "relu", "", "sigmoid", "TANH"]),
    "--device": st.sampled_from(
        ["cpu", "meta", "cuda", "cuda:0", "cuda:7", "mps", "tpu", "", "cuda:", "cuda:-1", "cuda:x", "CPU"]
    ),
    "--dtype": st.sampled_from(["float32", "float64", "float16", "bfloat16", "int8", "", "float", "half"]),
    "--format": st.sampled_from(["table", "markdown", "json", "csv", "svg", "python", "", "xml", "JSON"]),
    "--output": st.sampled_from(OUTPUTS),
    "--lengths": st.one_of(
        st.lists(st.integers(1, 9), min_size=1, max_size=6).map(lambda xs: ",".join(map(str, xs))),
        st.sampled_from(
            [
                "",
                ",",
                "1,,2",
                "0",
                "-1",
                "a,b",
                "5,3,2,",
                "99",
                "1.5",
                "1e9",
                "2147483648",
                "5 3 2",
                ",".join("1" * 60),
            ]
        ),
    ),
    "--repeats": st.sampled_from(["1", "2", "0", "-1", "10001", "abc", ""]),
    "--warmup": st.sampled_from(["0", "1", "-1", "1001", "x", ""]),
}
# Flags whose values are ordinary far more often than odd, so that valid runs are common too.
ORDINARY: dict[str, Any] = {
    "--kind": st.sampled_from(["lstm", "gru", "rnn", "lstm-cell", "gru-cell", "rnn-cell"]),
    "--input-size": st.integers(1, 9).map(str),
    "--hidden-size": st.integers(2, 9).map(str),
    "--layers": st.integers(1, 3).map(str),
    "--seq-len": st.integers(1, 6).map(str),
    "--batch": st.integers(1, 5).map(str),
    "--proj-size": st.sampled_from(["0", "1"]),
    "--dropout": st.sampled_from(["0", "0.3"]),
    "--nonlinearity": st.sampled_from(["tanh", "relu"]),
    "--device": st.sampled_from(["cpu", "cpu", "cpu", "meta", "meta", "meta", "cuda"]),
    "--dtype": st.sampled_from(["float32", "float64", "bfloat16"]),
    "--format": st.sampled_from(["table", "json", "markdown", "csv", "svg", "python"]),
    "--output": st.sampled_from(["out.md", "out.json", "out.txt"]),
    "--lengths": st.lists(st.integers(1, 5), min_size=1, max_size=4).map(lambda xs: ",".join(map(str, xs))),
    "--repeats": st.just("2"),
    "--warmup": st.just("1"),
}
# Words a hurried user types that are not torchshape's: unknown or misspelt options, a value
# for a switch, a stray word, the same flag twice, the end of options.
JUNK = st.sampled_from(
    [
        ["extra"],
        ["--foo", "1"],
        ["-x"],
        ["--bidir=1"],
        ["--hid", "3"],
        ["--"],
        ["--layers", "2", "--layers", "3"],
        ["lstm"],
        ["--hidden-size", "--layers"],
        ["--bidir", "2"],
    ]
)
ENVIRONMENTS = st.sampled_from(
    [{}, {}, {"COLUMNS": "40"}, {"COLUMNS": "300"}, {"NO_COLOR": "1"}, {"TERM": "dumb"}]
)


# Valid and odd values of torchshape embedding's flags; the shared ones (--device, ...) are rnn's.
INDEX_LISTS = st.lists(st.integers(1, 6), min_size=0, max_size=4).map(
    lambda xs: ",".join(map(str, xs)) or "()"
)
OFFSETS = st.lists(st.integers(0, 3), min_size=0, max_size=5).map(
    lambda steps: ",".join(str(sum(steps[:i])) for i in range(len(steps) + 1))
)
EMBEDDING_VALUES: dict[str, Any] = {
    "--num-embeddings": st.one_of(SIZES, st.sampled_from(["128256", "1000000000"])),
    "--embedding-dim": st.one_of(SIZES, st.sampled_from(["4096"])),
    "--shape": st.one_of(
        INDEX_LISTS, SIZES, st.sampled_from(["1,131072", "2147483647,2147483647", "1,2,", "()", ""])
    ),
    "--padding-idx": st.sampled_from(["0", "-1", "5", "99", "100", "-101", "x", "", "1.5", *HUGE]),
    "--max-norm": st.sampled_from(["1", "0.5", "2.0", "0", "-1", "nan", "inf", "", "abc"]),
    "--mode": st.sampled_from(["sum", "mean", "max", "SUM", "", "median"]),
    "--bags": SIZES,
    "--bag-size": SIZES,
    "--offsets": st.one_of(OFFSETS, st.sampled_from(["1,2", "0,3,2", "", "0,,1", "0,a", "0,2147483647"])),
    "--device": VALUES["--device"],
    "--dtype": VALUES["--dtype"],
    "--format": VALUES["--format"],
    "--output": VALUES["--output"],
    "--repeats": VALUES["--repeats"],
    "--warmup": VALUES["--warmup"],
}
EMBEDDING_ORDINARY: dict[str, Any] = {
    "--num-embeddings": st.integers(1, 50).map(str),
    "--embedding-dim": st.integers(1, 9).map(str),
    "--shape": INDEX_LISTS,
    "--padding-idx": st.integers(-1, 3).map(str),
    "--max-norm": st.sampled_from(["1", "2.5"]),
    "--mode": st.sampled_from(["sum", "mean", "max"]),
    "--bags": st.integers(1, 5).map(str),
    "--bag-size": st.integers(1, 5).map(str),
    "--offsets": OFFSETS,
    "--device": ORDINARY["--device"],
    "--dtype": ORDINARY["--dtype"],
    "--format": ORDINARY["--format"],
    "--output": ORDINARY["--output"],
    "--repeats": ORDINARY["--repeats"],
    "--warmup": ORDINARY["--warmup"],
}
EMBEDDING_JUNK = st.sampled_from(
    [["extra"], ["--foo", "1"], ["--bag=1"], ["--num-embedding", "3"], ["--"], ["--shape", "--bag"], ["bag"]]
)


def _in_any_order(draw: st.DrawFn, items: list[list[str]]) -> list[str]:
    """The words of ITEMS in a drawn order, each flag still before its value."""
    return [word for item in draw(st.permutations(items)) for word in item]


def _ending_now_and_then_in_a_bare_flag(draw: st.DrawFn, words: list[str], flags: list[str]) -> list[str]:
    """WORDS, and one time in 20 a flag of FLAGS at the end, left without its value."""
    if draw(st.integers(0, 19)) == 0:
        return [*words, draw(st.sampled_from(flags))]
    return words


@st.composite
def embedding_command_lines(draw: st.DrawFn) -> list[str]:
    """``torchshape embedding`` arguments: its flags in a random order with drawn values."""
    odd = draw(st.sampled_from([0.0, 0.0, 0.05, 0.3, 1.0]))
    bag = draw(st.booleans())
    items: list[list[str]] = [["--bag"]] if bag else []
    for flag in EMBEDDING_FLAGS:
        rare = flag in ("--repeats", "--warmup", "--output") or (
            not bag and flag in ("--mode", "--bags", "--bag-size", "--offsets")
        )
        if not (draw(st.integers(0, 7)) == 0 if rare else draw(st.booleans())):
            continue
        ordinary = draw(st.floats(0, 1)) >= odd
        items.append([flag, draw(EMBEDDING_ORDINARY[flag] if ordinary else EMBEDDING_VALUES[flag])])
    for switch in EMBEDDING_SWITCHES:
        if switch != "--bag" and draw(st.integers(0, 3)) == 0:
            items.append([switch])
    if draw(st.integers(0, 9)) == 0:
        items.append(draw(EMBEDDING_JUNK))
    return _ending_now_and_then_in_a_bare_flag(
        draw, ["embedding", *_in_any_order(draw, items)], EMBEDDING_FLAGS
    )


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    """``torchshape`` arguments: ``rnn``, then flags in a random order with drawn values."""
    odd = draw(st.sampled_from([0.0, 0.0, 0.05, 0.3, 1.0]))  # how often a value is drawn from the odd ones
    items: list[list[str]] = []
    for flag in FLAGS:
        rare = flag in ("--repeats", "--warmup", "--lengths", "--output", "--nonlinearity")
        if not (draw(st.integers(0, 7)) == 0 if rare else draw(st.booleans())):
            continue
        ordinary = draw(st.floats(0, 1)) >= odd
        items.append([flag, draw(ORDINARY[flag] if ordinary else VALUES[flag])])
    items += [[switch] for switch in SWITCHES if switch != "--debug" and draw(st.integers(0, 3)) == 0]
    if draw(st.integers(0, 9)) == 0:
        items.append(draw(JUNK))
    if draw(st.integers(0, 9)) == 0:
        items.append(draw(ALIASES))
    return _ending_now_and_then_in_a_bare_flag(draw, ["rnn", *_in_any_order(draw, items)], FLAGS)


@dataclass
class Outcome:
    """One finished run of the command line."""

    args: list[str]
    code: int | None  # None: it raised instead of returning
    stdout: str
    stderr: str
    files: dict[str, bytes]  # what the run left in its working directory (see ``left_in``)


def left_in(work: Path) -> dict[str, bytes]:
    """Every file under ``work`` by its relative path, and every directory as ``path/`` (empty)."""
    return {
        (p.relative_to(work).as_posix() + "/" * p.is_dir()): (b"" if p.is_dir() else p.read_bytes())
        for p in sorted(work.rglob("*"))
    }


def flag_value(args: list[str], flag: str) -> str | None:
    """The last value given for ``flag`` (click keeps the last)."""
    value = None
    for i, word in enumerate(args[:-1]):
        if word == flag:
            value = args[i + 1]
    return value


def _crashes(outcome: Outcome) -> list[str]:
    """What no run may end with: a traceback, an exit code other than 0, 1 or 2, an internal error."""
    out, err = outcome.stdout, outcome.stderr
    problems = ["a traceback"] if "Traceback" in out + err else []
    if outcome.code not in (0, 1, 2):
        return [*problems, f"exit code {outcome.code!r}"]
    return [*problems, "an internal error"] if "internal error" in err else problems


def _left_after_an_error(outcome: Outcome) -> list[str]:
    """A run that failed writes nothing on stdout and leaves no file behind."""
    return ["stdout is not empty after an error"] * bool(outcome.stdout) + [
        f"files left behind: {sorted(outcome.files)}"
    ] * bool(outcome.files)


def outcome_problems(outcome: Outcome) -> list[str]:
    """Everything wrong with one run; empty when it ended as it must."""
    problems = _crashes(outcome)
    code, out, err = outcome.code, outcome.stdout, outcome.stderr
    if code not in (0, 1, 2):
        return problems
    if code != 0:
        lines = err.splitlines()
        if len(lines) != 1 or not err.endswith("\n"):
            problems.append(f"{len(lines)} lines on stderr, not one")
        elif not lines[0].startswith("torchshape: error: "):
            problems.append("stderr does not start with 'torchshape: error: '")
        named = set(re.findall(r"-{1,2}[A-Za-z][\w-]*", err))
        if not named & (KNOWN_FLAGS | ATTENTION_KNOWN | TRANSFORMER_FLAGS | set(outcome.args)):
            problems.append("the error names no flag")
        return problems + _left_after_an_error(outcome)
    if err:
        problems.append("stderr is not empty after success")
    output = flag_value(outcome.args, "--output")
    if output is not None:
        name = Path(os.path.normpath(output)).as_posix()
        # missing parent directories are created: docs/ for docs/out.md
        expected = {name} | {parent.as_posix() + "/" for parent in Path(name).parents if parent != Path(".")}
        if set(outcome.files) != expected:
            problems.append(f"--output left {sorted(outcome.files)}, not {name}")
            return problems
        text = outcome.files[name].decode("utf-8")
        if out:
            problems.append("stdout is not empty with --output")
    else:
        text = out
    problems += _format_problems(outcome.args, text)
    return problems


def _format_problems(args: list[str], text: str) -> list[str]:
    """The output, in the format the run chose, parses and says that torch verified every shape."""
    try:
        fmt, data = _read(args, text)
    except _Unreadable as problem:
        return [str(problem)]
    if fmt == "json":
        unverified = [t["name"] for t in data["tensors"] if t["verified"] is not True]
        return [f"not verified: {unverified}"] * bool(unverified) + ["ok is not true"] * (
            data["ok"] is not True
        )
    if fmt == "csv":
        shapes = [row for row in data if row["kind"] != "total"]  # totals are counts, not shapes
        return ["csv row not verified"] * any(row["verified"] != "true" for row in shapes)
    if fmt == "svg":
        return []
    if fmt == "python":
        compile(text, "snippet.py", "exec")
        return []
    if fmt == "markdown":
        return ["markdown: no pipe table"] * ("| tensor |" not in text) + ["markdown: ✗"] * ("✗" in text)
    return ["table: a ✗"] * ("✗" in text) + ["table: no ✓"] * ("✓" not in text)


def _format_of(args: list[str]) -> str:
    """The format a run's flags chose: --format, else --output's suffix, else the table."""
    return (flag_value(args, "--format") or _format_from_name(flag_value(args, "--output"))).lower()


class _Unreadable(Exception):
    """An output that cannot be read in its format: the problem."""


def _read(args: list[str], text: str) -> tuple[str, Any]:
    """The format the run chose and its output read in it: JSON strictly (no NaN or Infinity),
    CSV as its rows below the header, each by column name, SVG parsed as XML and kept as text,
    like the other formats."""
    fmt = _format_of(args)
    if not text.strip():
        raise _Unreadable("no output")
    if fmt == "json":
        return fmt, json.loads(text, parse_constant=_refuse)
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        if len({len(row) for row in rows}) != 1:
            raise _Unreadable("csv is not rectangular")
        return fmt, [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    if fmt == "svg":
        xml.dom.minidom.parseString(text)
    return fmt, text


def _format_from_name(output: str | None) -> str:
    if output is None:
        return "table"
    suffix = Path(output).suffix
    return {".md": "markdown", ".json": "json", ".csv": "csv", ".svg": "svg", ".py": "python"}.get(
        suffix, "table"
    )


# --- torchshape model ------------------------------------------------------------------------------
#
# TARGETs from tests/models/ in both forms (the file by its absolute path, since each run has its
# own working directory, and the package), with the inputs each one's forward takes and the
# keywords its class takes; odd TARGETs, inputs and keywords beside them. Sizes are small or far
# beyond any machine (refused before anything is allocated), never in between.

MODELS = Path(__file__).resolve().parent / "models"
# file:Name → (its inputs, the keywords it takes)
MODEL_TARGETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "seq2seq.py:Seq2Seq": (("4,10:int64", "4,7:int64"), ("vocab", "embed", "hidden")),
    "crnn.py:CRNN": (("2,1,32,100",), ("classes", "hidden")),
    "cell_loop.py:CellLoop": (("6,3,8",), ("input_size", "hidden_size")),
    "cell_loop.py:model": (("6,3,8",), ()),
    "transformer.py:TinyTransformer": (("2,5:int64",), ("vocab", "d_model", "heads", "layers")),
    "transformer.py:build": (("2,5:int64",), ()),
    "broken.py:Broken": (("2,4,10",), ()),
    "broken.py:BrokenLSTM": (("2,5:int64",), ()),
    "broken.py:BrokenFlatten": (("2,3,12,12",), ()),
    "broken.py:BrokenConv": (("1,3,10,10",), ()),
    "broken.py:BrokenView": (("2,6",), ()),
}
ODD_TARGETS = [
    "tests/models/crnn.py:CRNN",  # relative to the run's empty working directory: no such file
    f"{MODELS / 'missing.py'}:Model",
    f"{MODELS / 'seq2seq.py'}:Nope",
    f"{MODELS / 'seq2seq.py'}:Seq2Seq.nope",
    f"{MODELS / 'seq2seq.py'}:Seq2Seq.forward",  # a function that needs arguments
    f"{MODELS / 'seq2seq.py'}",
    f"{MODELS / '__init__.py'}:Model",
    f"{MODELS}:CRNN",
    f"{MODELS}/:CRNN",
    "tests.models.missing:Model",
    "tests.missing.models:Model",
    "tests.models.seq2seq:nn",  # a Python module
    "tests.models.seq2seq:annotations",  # neither module, class nor function
    "tests.models.seq2seq:",
    "tests.models.seq2seq:1abc",
    "tests..models:CRNN",
    "Seq2Seq",
    "",
    ":",
    ":Seq2Seq",
]
ODD_INPUTS = [
    "", " ", ",", "4,,10", "4,x", "a", "4;10", "4, 10", "1e3,2", "٣,2", "+4,2", "-1,3", "4,-10:int64",
    "4,10:int65", "4,10:", "4,10:INT64", "4,10:float", "4,10::0-5", "4,10:float32:0-5", "4,10:int64:5-5",
    "4,10:int64:5-1", "4,10:int64:-3-10", "4,10:int64:0-1000000", "4,10:int64:0-1:2", "4,10:int64:a-b",
    "4,10:bool", "4,10:float16", "4,10:bfloat16", "4,10:uint8", "4,10:int8", "0,10:int64", "2,0",
    "100000000000000000000,3", "9223372036854775808", "2147483648,2147483648", "1000000,1000000,1000",
    "1000000000000:int64",
]  # fmt: skip
ODD_ARG_VALUES = [
    "0", "-1", "True", "None", "'x'", "1.5", "(1, 2)", "[3]", "{}", "1e100", "10**9", "__import__('os')",
    "", "'", "nan",
]  # fmt: skip
ODD_ARGS = ["nope=1", "=1", "hidden", "1x=2", "hidden==2", " hidden = 8 ", "", "="]
MODEL_JUNK = st.sampled_from(
    [["extra"], ["--foo", "1"], ["--kind", "lstm"], ["--time"], ["--input"], ["--bidir"], ["--"]]
)


# Values each keyword takes that build a model its inputs fit (d_model a multiple of heads).
MODEL_ARG_VALUES: dict[str, list[str]] = {
    "vocab": ["2", "7", "50"],
    "embed": ["1", "5", "16"],
    "hidden": ["1", "3", "12"],
    "classes": ["1", "4"],
    "input_size": ["8"],
    "hidden_size": ["1", "5"],
    "d_model": ["8", "16"],
    "heads": ["1", "2", "4"],
    "layers": ["1", "3"],
}
MODEL_OPTIONS: dict[str, tuple[list[str], list[str]]] = {  # flag → (ordinary values, odd ones)
    "--depth": (["0", "1", "2", "3"], ["10", "-1", "x", "", "1.5", "99999999999999999999"]),
    "--device": (["cpu", "cpu", "meta"], ["cuda", "cuda:0", "mps", "tpu", "", "CPU", "cuda:x"]),
    "--dtype": (["float32", "float64", "bfloat16"], ["float16", "int8", "", "half"]),
    "--format": (["table", "json", "markdown", "csv", "svg"], ["python", "", "xml", "JSON"]),
    "--output": (["out.md", "out.json", "out.txt", "out.csv"], OUTPUTS),
}


@st.composite
def model_command_lines(draw: st.DrawFn) -> list[str]:
    """``torchshape model TARGET --input ... [--arg ...] [flags]``: a target from tests/models/ with
    its inputs and keywords, each value replaced by an odd one now and then (or always)."""
    odd = draw(st.sampled_from([0.0, 0.0, 0.1, 0.3, 1.0]))  # how often a value is drawn from the odd ones

    def pick(ordinary: Any, unusual: Any) -> Any:
        return draw(unusual if draw(st.floats(0, 1)) < odd else ordinary)

    key = draw(st.sampled_from(sorted(MODEL_TARGETS)))
    inputs, names = MODEL_TARGETS[key]
    file, name = key.split(":")
    forms = [f"{MODELS / file}:{name}", f"tests.models.{file.removesuffix('.py')}:{name}"]
    target = pick(st.sampled_from(forms), st.sampled_from(ODD_TARGETS))
    given = [pick(st.just(one), st.sampled_from(ODD_INPUTS)) for one in inputs]
    if odd and draw(st.integers(0, 4)) == 0:
        if draw(st.booleans()):
            given = given[:-1]  # one input too few (none at all for a one-input forward)
        else:
            given.append(draw(st.sampled_from([*inputs, *ODD_INPUTS])))  # one too many
    items: list[list[str]] = [["--input", one] for one in given]
    for _ in range(draw(st.integers(0, 2))):
        if names:
            keyword = draw(st.sampled_from(names))
            value = pick(st.sampled_from(MODEL_ARG_VALUES[keyword]), st.sampled_from(ODD_ARG_VALUES))
            items.append(["--arg", pick(st.just(f"{keyword}={value}"), st.sampled_from(ODD_ARGS))])
        elif odd:  # a module object or a function without keywords takes no --arg
            items.append(["--arg", draw(st.sampled_from([*ODD_ARGS, "hidden=4"]))])
    for flag, (ordinary, unusual) in MODEL_OPTIONS.items():
        if draw(st.integers(0, 2 if flag != "--output" else 5)) == 0:
            items.append([flag, pick(st.sampled_from(ordinary), st.sampled_from(unusual))])
    if draw(st.integers(0, 3)) == 0:
        items.append(["--params"])
    if odd and draw(st.integers(0, 9)) == 0:
        items.append(draw(MODEL_JUNK))
    return ["model", target, *_in_any_order(draw, items)]


# stderr's line when the model's forward raised, after the report was written
MODEL_FAILED_IN = re.compile(r"torchshape: error: the model failed in .+ \(.+\); see (.+)\n")
# ...and when its own code failed before forward: at import or when built (no report)
MODEL_FAILED_BEFORE = re.compile(r"torchshape: error: the model failed (at import of|when built) ")


def model_outcome_problems(outcome: Outcome) -> list[str]:
    """Everything wrong with one run of ``torchshape model``; empty when it ended as it must.

    As ``outcome_problems``, except: when the model's forward raised, the report is written (to
    stdout or --output) before stderr's one line, and it says where forward raised; when the
    model's own code failed before forward, the line names the model rather than a flag.
    """
    problems = _crashes(outcome)
    code, out, err = outcome.code, outcome.stdout, outcome.stderr
    if code not in (0, 1, 2):
        return problems
    output = flag_value(outcome.args, "--output")
    if code != 0:
        lines = err.splitlines()
        if len(lines) != 1 or not err.endswith("\n"):
            return [*problems, f"{len(lines)} lines on stderr, not one"]
        if not lines[0].startswith("torchshape: error: "):
            problems.append("stderr does not start with 'torchshape: error: '")
        failed = MODEL_FAILED_IN.fullmatch(err)
        if failed is None:
            if MODEL_FAILED_BEFORE.match(err):
                problems += ["the model's own failure, not exit 1"] * (code != 1)
            else:
                named = set(re.findall(r"-{1,2}[A-Za-z][\w-]*|TARGET", err))
                if not named & (KNOWN_FLAGS | MODEL_FLAGS | {"TARGET"} | set(outcome.args)):
                    problems.append("the error names no flag")
            return problems + _left_after_an_error(outcome)
        if code != 1:
            problems.append(f"forward raised, exit {code}, not 1")
        where = failed[1]
        if where != (output if output is not None else "the trace above"):
            problems.append(f"stderr says see {where!r}")
    elif err:
        problems.append("stderr is not empty after success")
    if output is not None:
        name = Path(os.path.normpath(output)).as_posix()
        expected = {name} | {parent.as_posix() + "/" for parent in Path(name).parents if parent != Path(".")}
        if set(outcome.files) != expected:
            return [*problems, f"--output left {sorted(outcome.files)}, not {name}"]
        text = outcome.files[name].decode("utf-8")
        if out:
            problems.append("stdout is not empty with --output")
    else:
        if outcome.files:
            problems.append(f"files left behind: {sorted(outcome.files)}")
        text = out
    return problems + _model_format_problems(outcome.args, text, failed=code != 0)


MODEL_FLAGS = {"--input", "--arg", "--depth", "--device", "--dtype", "--format", "--output", "--params"}


def _model_format_problems(args: list[str], text: str, *, failed: bool) -> list[str]:
    """The report parses in its format; without ``failed``, every formula torch checked agreed
    (a layer without a formula has no mark); with it, the report says where forward raised."""
    try:
        fmt, data = _read(args, text)
    except _Unreadable as problem:
        return [str(problem)]
    if fmt == "json":
        marks = [o["verified"] for layer in data["layers"] for o in layer["outputs"]]
        marks += [t["verified"] for t in data["tensors"]]
        if failed:
            return ["json: no error"] * (data["error"] is None) + ["json: ok"] * (data["ok"] is not False)
        return ["json: a formula torch disagreed with"] * (False in marks) + ["json: ok is not true"] * (
            data["ok"] is not True
        )
    if fmt == "csv":
        if failed:
            return ["csv: no error row"] * all(row["kind"] != "error" for row in data)
        shapes = [row for row in data if row["kind"] in ("tensor", "layer")]
        return ["csv: a row torch disagreed with"] * any(row["verified"] == "false" for row in shapes)
    if fmt == "svg":
        return []
    if failed:
        return [f"{fmt}: no ✗ where forward raised"] * ("✗" not in text)
    return [f"{fmt}: a ✗"] * ("✗" in text) + [f"{fmt}: no ✓"] * ("✓" not in text)


# torchshape attention: its flags, drawn the same way (valid values more often than odd ones).
ATTENTION_FLAGS = [
    *("--embed-dim", "--heads", "--kdim", "--vdim", "--target-len", "--source-len", "--batch"),
    *("--attn-mask", "--mask-dtype", "--dropout", "--device", "--dtype", "--format", "--output"),
    *("--repeats", "--warmup"),
]
ATTENTION_SWITCHES = [
    *("--batch-first", "--unbatched", "--self", "--no-need-weights", "--need-weights"),
    *("--per-head-weights", "--average-weights", "--key-padding-mask", "--causal", "--add-bias-kv"),
    *("--add-zero-attn", "--no-bias", "--explain", "--params", "--time"),
]
ATTENTION_KNOWN = set(ATTENTION_FLAGS) | set(ATTENTION_SWITCHES) | {"--help", "--debug"}
ATTENTION_VALUES: dict[str, Any] = {
    **{flag: SIZES for flag in ATTENTION_FLAGS[:7]},
    "--attn-mask": st.sampled_from(["none", "2d", "3d", "", "4d", "2D", "causal"]),
    "--mask-dtype": st.sampled_from(["bool", "float", "", "int", "float16"]),
    **{flag: VALUES[flag] for flag in ("--dropout", "--device", "--dtype", "--format", "--output")},
    **{flag: VALUES[flag] for flag in ("--repeats", "--warmup")},
}
ATTENTION_ORDINARY: dict[str, Any] = {
    "--embed-dim": st.sampled_from(["4", "6", "8", "12"]),
    "--heads": st.sampled_from(["1", "2", "4"]),
    "--kdim": st.integers(1, 9).map(str),
    "--vdim": st.integers(1, 9).map(str),
    "--target-len": st.integers(1, 6).map(str),
    "--source-len": st.integers(1, 6).map(str),
    "--batch": st.integers(1, 4).map(str),
    "--attn-mask": st.sampled_from(["none", "2d", "3d"]),
    "--mask-dtype": st.sampled_from(["bool", "float"]),
    **{flag: ORDINARY[flag] for flag in ("--dropout", "--device", "--dtype", "--format", "--output")},
    **{flag: ORDINARY[flag] for flag in ("--repeats", "--warmup")},
}


@st.composite
def attention_command_lines(draw: st.DrawFn) -> list[str]:
    """``torchshape attention`` arguments: flags in a random order with drawn values."""
    odd = draw(st.sampled_from([0.0, 0.0, 0.05, 0.3, 1.0]))
    items: list[list[str]] = []
    for flag in ATTENTION_FLAGS:
        rare = flag in ("--repeats", "--warmup", "--output", "--kdim", "--vdim")
        if not (draw(st.integers(0, 7)) == 0 if rare else draw(st.integers(0, 2)) == 0):
            continue
        ordinary = draw(st.floats(0, 1)) >= odd
        items.append([flag, draw(ATTENTION_ORDINARY[flag] if ordinary else ATTENTION_VALUES[flag])])
    items += [[switch] for switch in ATTENTION_SWITCHES if draw(st.integers(0, 4)) == 0]
    if draw(st.integers(0, 9)) == 0:
        items.append(draw(st.sampled_from([["extra"], ["--foo", "1"], ["--self=1"], ["--heads"], ["--"]])))
    return _ending_now_and_then_in_a_bare_flag(
        draw, ["attention", *_in_any_order(draw, items)], ATTENTION_FLAGS
    )


# the dtype, format and timing flags of transformer, conv and pool: (ordinary values, odd ones)
RUN_OPTIONS: dict[str, tuple[list[str], list[str]]] = {
    "--dtype": (["float32", "float64", "bfloat16"], ["float16", "int8", "", "half"]),
    "--format": (["table", "json", "markdown", "csv", "svg", "python"], ["", "xml", "JSON"]),
    "--repeats": (["2"], ["0", "-1", "abc"]),
    "--warmup": (["1"], ["-1", "x"]),
}

# --- torchshape transformer ----------------------------------------------------------------------
#
# flag → (ordinary values, odd ones); ordinary values keep d_model divisible by nhead most of the time.
MASK_FORMS = (["none", "2d", "3d"], ["", "4d", "2D", "bool", "x"])
PADDING_FORMS = (["none", "bool", "float"], ["", "int64", "2d", "BOOL"])
TRANSFORMER_OPTIONS: dict[str, tuple[list[str], list[str]]] = {
    "--layer": (["encoder", "decoder", "full"], ["", "middle", "Encoder", "transformer"]),
    "--d-model": (["6", "12", "18"], ["0", "-1", "5", "1.5", *HUGE, "2147483647"]),
    "--nhead": (["1", "2", "3"], ["0", "4", "7", "-2", "x", "2147483647"]),
    "--dim-feedforward": (["1", "8", "32"], ["0", "", "1e3", *HUGE]),
    "--num-encoder-layers": (["1", "2", "3"], ["0", "1025", "1024", "x"]),
    "--num-decoder-layers": (["1", "2"], ["0", "-1", "1025", ""]),
    "--source-len": (["1", "3", "10"], ["0", "100000", "2147483647", *HUGE, ""]),
    "--target-len": (["1", "2", "7"], ["0", "100000", "2147483647", "nan"]),
    "--batch": (["1", "2", "4"], ["0", "-1", "1000000", *HUGE]),
    "--src-mask": MASK_FORMS,
    "--tgt-mask": MASK_FORMS,
    "--memory-mask": MASK_FORMS,
    "--src-key-padding-mask": PADDING_FORMS,
    "--tgt-key-padding-mask": PADDING_FORMS,
    "--memory-key-padding-mask": PADDING_FORMS,
    "--device": (["cpu", "cpu", "meta"], ["cuda", "cuda:7", "mps", "tpu", "", "CPU"]),
    "--output": (["out.md", "out.json", "out.txt", "out.py"], OUTPUTS),
    **RUN_OPTIONS,
}
TRANSFORMER_SWITCHES = ["--batch-first", "--norm-first", "--causal", "--explain", "--params", "--time"]
TRANSFORMER_FLAGS = {*TRANSFORMER_OPTIONS, *TRANSFORMER_SWITCHES}
TRANSFORMER_JUNK = st.sampled_from(
    [["extra"], ["--kind", "lstm"], ["--d-model"], ["--causal=1"], ["--nhead", "2", "--nhead", "3"], ["--"]]
)


@st.composite
def transformer_command_lines(draw: st.DrawFn) -> list[str]:
    """``torchshape transformer [flags]``: every flag now and then, each value ordinary or odd."""
    odd = draw(st.sampled_from([0.0, 0.0, 0.05, 0.3, 1.0]))
    layer = draw(st.sampled_from(["encoder", "decoder", "full"]))
    # without odd values, only the flags this layer takes (a mask its forward lacks is refused)
    foreign = {
        "encoder": {"--tgt", "--memory", "--target-len", "--num-", "--causal"},
        "decoder": {"--src", "--num-"},
        "full": set(),
    }[layer]
    items: list[list[str]] = [["--layer", layer]]
    for flag, (ordinary, unusual) in TRANSFORMER_OPTIONS.items():
        rare = flag in ("--output", "--repeats", "--warmup")
        if flag == "--layer" or draw(st.integers(0, 7 if rare else 2)) != 0:
            continue
        if not odd and flag.startswith(tuple(foreign)):
            continue
        values = unusual if draw(st.floats(0, 1)) < odd else ordinary
        items.append([flag, draw(st.sampled_from(values))])
    items += [
        [switch]
        for switch in TRANSFORMER_SWITCHES
        if draw(st.integers(0, 3)) == 0 and (odd or not switch.startswith(tuple(foreign)))
    ]
    if odd and draw(st.integers(0, 9)) == 0:
        items.append(draw(TRANSFORMER_JUNK))
    return ["transformer", *_in_any_order(draw, items)]


# --- torchshape conv and pool ---------------------------------------------------------------------
#
# flag → (ordinary values, odd ones); ordinary values are small, so a drawn line runs in milliseconds.
PER_AXIS = (["1", "2", "3", "2,1", "1,2"], ["0", "-1", "", "x", "1,2,3,4", "2,,1", *HUGE, "1.5", "nan"])
SPATIAL_SIZES = (["8", "9", "12,10", "7,9", "16"], ["0", "-3", "", "1e3", *HUGE, "100000,100000,100000"])
COMMON_OPTIONS: dict[str, tuple[list[str], list[str]]] = {
    "--batch": (["1", "2"], ["0", "-1", *HUGE, "x"]),
    "--device": (["cpu", "cpu", "meta"], ["cuda", "cuda:3", "mps", "tpu", "", "CPU"]),
    "--output": (["out.md", "out.json", "out.txt", "out.svg"], OUTPUTS),
    **RUN_OPTIONS,
}
CONV_OPTIONS: dict[str, tuple[list[str], list[str]]] = {
    "--dims": (["1", "2", "2", "3"], ["0", "4", "", "x"]),
    "--in-channels": (["1", "2", "4"], ["0", "-2", *HUGE, "2.5"]),
    "--out-channels": (["1", "2", "4"], ["0", "", *HUGE]),
    "--kernel-size": PER_AXIS,
    "--stride": PER_AXIS,
    "--padding": (["0", "1", "same", "valid", "1,0"], ["-1", "Same", "", "9999", *HUGE]),
    "--dilation": PER_AXIS,
    "--groups": (["1", "2"], ["0", "3", "-1", *HUGE]),
    "--output-padding": (["0", "1"], ["5", "-1", "x"]),
    "--padding-mode": (["zeros", "reflect", "replicate", "circular"], ["", "mirror", "ZEROS"]),
    "--size": SPATIAL_SIZES,
    **COMMON_OPTIONS,
}
CONV_SWITCHES = ["--no-bias", "--transposed", "--unbatched", "--explain", "--diagram", "--params", "--time"]
POOL_OPTIONS: dict[str, tuple[list[str], list[str]]] = {
    "--kind": (["max", "avg", "lp", "adaptive-max", "adaptive-avg"], ["", "min", "MAX", "adaptive"]),
    "--dims": (["1", "2", "2", "3"], ["0", "4", "", "x"]),
    "--channels": (["1", "2", "3"], ["0", "-2", *HUGE]),
    "--size": SPATIAL_SIZES,
    "--kernel-size": PER_AXIS,
    "--stride": PER_AXIS,
    "--padding": (["0", "1"], ["-1", "5", "", *HUGE]),
    "--dilation": PER_AXIS,
    "--norm-type": (["1", "2", "3", "0.5"], ["0", "-1", "nan", "inf", "", "x"]),
    "--output-size": (["1", "3", "2,3", "4"], ["0", "-1", "", *HUGE]),
    **COMMON_OPTIONS,
}
POOL_SWITCHES = [
    *("--unbatched", "--ceil-mode", "--count-include-pad", "--return-indices", "--explain", "--diagram"),
    *("--params", "--time"),
]
SPATIAL_FLAGS = {*CONV_OPTIONS, *CONV_SWITCHES, *POOL_OPTIONS, *POOL_SWITCHES, "--batch-size"}
KNOWN_FLAGS |= SPATIAL_FLAGS


def _flag_soup(
    draw: st.DrawFn, command: str, options: dict[str, tuple[list[str], list[str]]], switches: list[str]
) -> list[str]:
    odd = draw(st.sampled_from([0.0, 0.0, 0.05, 0.3, 1.0]))
    items: list[list[str]] = []
    for flag, (ordinary, unusual) in options.items():
        rare = flag in ("--output", "--repeats", "--warmup")
        if draw(st.integers(0, 7 if rare else 2)) != 0:
            continue
        values = unusual if draw(st.floats(0, 1)) < odd else ordinary
        items.append([flag, draw(st.sampled_from(values))])
    items += [[switch] for switch in switches if draw(st.integers(0, 3)) == 0]
    if odd and draw(st.integers(0, 9)) == 0:
        items.append(draw(st.sampled_from([["extra"], ["--foo", "1"], ["--explain=1"], ["--size"], ["--"]])))
    return [command, *_in_any_order(draw, items)]


@st.composite
def conv_command_lines(draw: st.DrawFn) -> list[str]:
    """``torchshape conv [flags]``: every flag now and then, each value ordinary or odd."""
    return _flag_soup(draw, "conv", CONV_OPTIONS, CONV_SWITCHES)


@st.composite
def pool_command_lines(draw: st.DrawFn) -> list[str]:
    """``torchshape pool [flags]``: every flag now and then, each value ordinary or odd."""
    return _flag_soup(draw, "pool", POOL_OPTIONS, POOL_SWITCHES)


def spatial_outcome_problems(outcome: Outcome) -> list[str]:
    """As ``outcome_problems``, for conv and pool: exit 0 with verified shapes and strict JSON, or
    one line naming a flag. A claim of ``--explain`` that torch refuted (exit 1 after the report)
    is a finding of the explain code, reported as such."""
    problems = outcome_problems(outcome)
    return problems + _strict_json_problems(outcome)


# --- hostile models --------------------------------------------------------------------------------
#
# TARGETs that misbehave (tests/models/hostile.py) or are no model at all (os:system), among
# ordinary flags: the run must end in its report or one line of torchshape's, exit 0, 1 or 2,
# never run a command, and keep JSON strict.
PWNED = "pwned"
HOSTILE_TARGETS: dict[str, tuple[str, ...]] = {  # TARGET → the --arg values it is given
    f"{MODELS / 'hostile.py'}:Exits": ("code=3", "code=0", "code='bye'", "code=None"),
    f"{MODELS / 'hostile.py'}:ExitsWhenBuilt": (),
    f"{MODELS / 'hostile.py'}:Prints": (),
    f"{MODELS / 'hostile.py'}:RaisesUnprintable": ("both=True", "both=False"),
    f"{MODELS / 'hostile.py'}:RaisesAnsi": (),
    f"{MODELS / 'hostile.py'}:TakesAnything": (
        *("k=1e309", "k=-1e309", "k=b'x'", "k=1j", "k={1, 2}", "k=...", "k={(1, 2): 3}", "k=(1e309,)"),
        *("k='\\x1b[31m'", "k=[[]]", "k={'a': {'b': 1e400}}", "k=frozenset()", "k=2**64"),
    ),
    f"{MODELS / 'hostile.py'}:make_linear": ("features=4",),
    f"{MODELS / 'hostile.py'}:not_a_model": (),
    f"{MODELS / 'hostile.py'}:NotAModule": (),
    f"{MODELS / 'hostile.py'}:VALUE": (),
    f"{MODELS / 'hostile.py'}:join_path": (f"a='{PWNED}'",),
    "tests.models.hostile:Exits": ("code=5",),
    "tests.models.hostile:Prints": (),
    "os:system": (f"command='touch {PWNED}'",),
    "posix:system": (f"command='touch {PWNED}'",),
    "sys:exit": ("status=9",),
    "builtins:exec": (f"source=\"open('{PWNED}', 'w')\"",),
    "builtins:eval": (f"source=\"open('{PWNED}', 'w')\"",),
    "shutil:rmtree": ("path='.'",),
    "subprocess:run": (f"args='touch {PWNED}'", "shell=True"),
    "pathlib:Path.touch": (),
    "torch.hub:load": ("repo_or_dir='.'", "model='x'"),
    "torch:load": (f"f='{PWNED}'",),
    "io:open": (f"file='{PWNED}'", "mode='w'"),
}


@st.composite
def hostile_command_lines(draw: st.DrawFn) -> list[str]:
    """``torchshape model HOSTILE --input 2,4 [--arg ...] [flags]``."""
    target = draw(st.sampled_from(sorted(HOSTILE_TARGETS)))
    values = HOSTILE_TARGETS[target]
    items: list[list[str]] = [["--input", draw(st.sampled_from(["2,4", "2,4", "1", "3,4:float64"]))]]
    if values:
        for value in draw(st.lists(st.sampled_from(values), max_size=2, unique=True)):
            items.append(["--arg", value])
    for flag, (ordinary, _) in MODEL_OPTIONS.items():
        if flag != "--depth" and draw(st.integers(0, 2)) == 0:
            items.append([flag, draw(st.sampled_from(ordinary))])
    if draw(st.integers(0, 3)) == 0:
        items.append(["--params"])
    return ["model", target, *_in_any_order(draw, items)]


CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def hostile_outcome_problems(outcome: Outcome) -> list[str]:
    """What a hostile model may not do to the run: tracebacks, other exit codes, more than one
    line of torchshape's on stderr, control characters, a command run, invalid JSON."""
    problems = _crashes(outcome)
    code, out, err = outcome.code, outcome.stdout, outcome.stderr
    if code not in (0, 1, 2):
        return problems
    if any(PWNED in name for name in outcome.files):
        problems.append("the TARGET ran a command")
    if CONTROL.search(out + err):
        problems.append("a control character reached the terminal")
    ours = [line for line in err.splitlines() if line.startswith("torchshape:")]
    if code != 0 and (len(ours) != 1 or not err.endswith(ours[-1] + "\n")):
        problems.append(f"{len(ours)} lines of torchshape's on stderr, not one at the end")
    if code == 0 and ours:
        problems.append("torchshape wrote to stderr after success")
    return problems + _strict_json_problems(outcome)


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _strict_json_problems(outcome: Outcome) -> list[str]:
    """On exit 0 with JSON (``--format json`` or a .json --output), the JSON is strict."""
    if outcome.code != 0:
        return []
    output = flag_value(outcome.args, "--output")
    if _format_of(outcome.args) != "json":
        return []
    if output is not None:
        name = Path(os.path.normpath(output)).as_posix()
        if name not in outcome.files:
            return ["no --output file"]
        text = outcome.files[name].decode("utf-8")
    else:
        text = outcome.stdout
    try:
        json.loads(text, parse_constant=_refuse)
    except ValueError as exc:
        return [f"invalid JSON: {exc}"]
    return []
