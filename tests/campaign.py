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
    "--output": st.sampled_from(
        [
            "out.md",
            "out.json",
            "out.csv",
            "out.svg",
            "out.py",
            "out.txt",
            "out.xyz",
            "out",
            "missing/out.md",
            "docs/shapes/out.json",
            ".",
        ]
    ),
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
    words = ["embedding", *(word for item in draw(st.permutations(items)) for word in item)]
    if draw(st.integers(0, 19)) == 0:  # a flag left without its value at the end
        words.append(draw(st.sampled_from(EMBEDDING_FLAGS)))
    return words


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
    words = ["rnn", *(word for item in draw(st.permutations(items)) for word in item)]
    if draw(st.integers(0, 19)) == 0:  # a flag left without its value at the end
        words.append(draw(st.sampled_from(FLAGS)))
    return words


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


def outcome_problems(outcome: Outcome) -> list[str]:
    """Everything wrong with one run; empty when it ended as it must."""
    problems: list[str] = []
    code, out, err = outcome.code, outcome.stdout, outcome.stderr
    if "Traceback" in out + err:
        problems.append("a traceback")
    if code not in (0, 1, 2):
        return [*problems, f"exit code {code!r}"]
    if "internal error" in err:
        problems.append("an internal error")
    if code != 0:
        lines = err.splitlines()
        if len(lines) != 1 or not err.endswith("\n"):
            problems.append(f"{len(lines)} lines on stderr, not one")
        elif not lines[0].startswith("torchshape: error: "):
            problems.append("stderr does not start with 'torchshape: error: '")
        named = set(re.findall(r"-{1,2}[A-Za-z][\w-]*", err))
        if not named & (KNOWN_FLAGS | set(outcome.args)):
            problems.append("the error names no flag")
        if out:
            problems.append("stdout is not empty after an error")
        if outcome.files:
            problems.append(f"files left behind: {sorted(outcome.files)}")
        return problems
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
    fmt = (flag_value(args, "--format") or _format_from_name(flag_value(args, "--output"))).lower()
    if not text.strip():
        return ["no output"]
    if fmt == "json":
        data = json.loads(text)
        unverified = [t["name"] for t in data["tensors"] if t["verified"] is not True]
        return [f"not verified: {unverified}"] * bool(unverified) + ["ok is not true"] * (
            data["ok"] is not True
        )
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        if len({len(row) for row in rows}) != 1:
            return ["csv is not rectangular"]
        verified, kind = rows[0].index("verified"), rows[0].index("kind")
        shapes = [row for row in rows[1:] if row[kind] != "total"]  # totals are counts, not shapes
        return ["csv row not verified"] * any(row[verified] != "true" for row in shapes)
    if fmt == "svg":
        xml.dom.minidom.parseString(text)
        return []
    if fmt == "python":
        compile(text, "snippet.py", "exec")
        return []
    if fmt == "markdown":
        return ["markdown: no pipe table"] * ("| tensor |" not in text) + ["markdown: ✗"] * ("✗" in text)
    return ["table: a ✗"] * ("✗" in text) + ["table: no ✓"] * ("✓" not in text)


def _format_from_name(output: str | None) -> str:
    if output is None:
        return "table"
    suffix = Path(output).suffix
    return {".md": "markdown", ".json": "json", ".csv": "csv", ".svg": "svg", ".py": "python"}.get(
        suffix, "table"
    )
