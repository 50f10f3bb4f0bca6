"""Measure how long torchshape makes its users wait, and write BENCHMARKS.md.

    python benchmarks/run.py [--rounds 3] [--output BENCHMARKS.md]

Every figure is the median over several rounds of a fresh subprocess, set against
a baseline timed in the same run (the same rounds, in a shuffled order), so a busy
or slow machine moves both. torchshape's bytecode is written first, as ``pip install``
writes it, so no timed run compiles source. Peak memory is each subprocess's own maximum resident
set size (``os.wait4``). Targets:

1. ``torchshape --help`` at most 1.2 × the ``--help`` of a one-command Typer app
   written here, and torch never imported; ``torchshape --version`` at most 1.2 ×
   ``torchshape --help`` (it reads torch's version from its metadata, never imports it).
2. The design example ``torchshape rnn --kind lstm --layers 2 --bidir`` at most
   1.25 × ``python -c "import torch"``.
3. ``torchshape rnn``: GRU, LSTM and RNN with input and hidden size 4096, 8 layers,
   bidirectional, batch 64, seq-len 1000 and 100000, on ``--device meta``: at most
   1.3 × the time and 1.3 × the peak memory of ``import torch``; and flat across sizes
   (L, N, H and the number of layers swept from 1 to far beyond the sizes above).
4. ``torchshape conv`` on ``--device meta`` at a huge size (batch 64, channels 1024,
   size 4096,4096): at most 1.3 × the time and peak memory of ``import torch``; and flat
   across sizes (N from 1 to 10⁶, C_in = C_out from 1 to 10⁵, the spatial size from 8
   to 10⁶ per axis).
5. ``torchshape pool`` on ``--device meta`` at huge sizes (a 2-d max pool over
   64 × 512 × 100000 × 100000, a 3-d adaptive-avg pool over 64 × 512 × 10000³): at most
   1.3 × the time and peak memory of ``import torch``; and flat across sizes (N and C
   from 1 to 10⁶, the spatial size from 8 to 10⁶).

6. ``torchshape model`` on the models of ``benchmarks/models.py``: a decoder-only transformer
   of about 6.7 B parameters traced on meta at most 1.5 × the time of the same model built
   under ``with torch.device("meta")`` with its forward run on a meta input, without torchshape
   (``python benchmarks/models.py decoder``), and at most 1.3 × the peak memory of ``import
   torch`` (nothing allocated); a seq2seq model with an 8-layer bidirectional LSTM encoder of
   hidden size 4096 on meta at most 1.3 × the time and peak memory of ``import torch`` plus
   importing the model file. A mid-size LSTM language model (about 54 M parameters) on the CPU
   is set beside ``torchinfo.summary`` of the same model and input (time and peak memory, no
   target), where ``import torchinfo`` works in this python; else that comparison is skipped.

*Flat across sizes*: ``torchshape.inspect``, ``inspect_conv`` or ``inspect_pool`` is timed
in one process with torch already imported (best of ``SWEEP_REPEATS``), one size varied at
a time; across each sweep the slowest point is within 5 % of ``import torch`` of the
fastest. torch's convolution and pooling meta kernels run at the user's sizes, so nothing
is scaled down there. ``--only conv``, ``--only pool`` or ``--only model`` measures that part alone (its own
``import torch`` baseline, as in the full run) and prints it instead of writing
BENCHMARKS.md.

Where CUDA is available it also times a 4-layer LSTM (hidden 1024, seq-len 512,
batch 64) in fp32 and bf16 with ``--time`` and with an independent CUDA-event
measurement written below, and reports both. Exits 1 when a target is missed.
Not part of the unit tests.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
REPRODUCE = "python benchmarks/run.py"

TYPER_APP = '''\
import typer

app = typer.Typer(add_completion=False)


@app.command()
def main(name: str = "world", count: int = 1) -> None:
    """Say hello."""
    for _ in range(count):
        print(f"hello {name}")
'''

HUGE = ["--input-size", "4096", "--hidden-size", "4096", "--layers", "8", "--bidir", "--batch", "64"]

SWEEP_REPEATS = 7
# Constant time: across each sweep, the slowest point's best time may exceed the fastest
# point's by at most this fraction of `import torch` (the floor every command pays).
SWEEP_SPREAD = 0.05


@dataclass(frozen=True)
class Sweep:
    """``torchshape.<function>(**base)`` in one process, one setting (or a tied group) varied at a time."""

    function: str
    base: dict[str, Any]
    # label → (the settings set to each value, the values: small, the huge configuration's, far beyond)
    axes: dict[str, tuple[tuple[str, ...], list[int]]]
    described: str  # the base, as BENCHMARKS.md names it
    # "module:function" memos emptied before each timed call: a command runs once per process
    memos: tuple[str, ...] = ()


SWEEPS = {
    "rnn": Sweep(
        "inspect",
        {
            "kind": "lstm",
            "input_size": 4096,
            "hidden_size": 4096,
            "num_layers": 8,
            "bidirectional": True,
            "batch": 64,
            "seq_len": 1000,
            "device": "meta",
        },
        {
            "L (--seq-len)": (("seq_len",), [1, 1000, 10**7]),
            "N (--batch)": (("batch",), [1, 64, 10**6]),
            "H_in = H_cell (--input-size, --hidden-size)": (("input_size", "hidden_size"), [1, 4096, 10**6]),
            "num_layers (--layers)": (("num_layers",), [1, 8, 1024]),
        },
        "the LSTM above (4096, 8 layers, bidirectional, batch 64, seq-len 1000)",
        memos=(
            "torchshape.families.rnn.sizes:parameter_formulas",
            "torchshape.families.rnn.sizes:parameters_at_size",
        ),
    ),
    "conv": Sweep(
        "inspect_conv",
        {
            "batch": 64,
            "in_channels": 1024,
            "out_channels": 1024,
            "size": 4096,
            "kernel_size": 3,
            "stride": 2,
            "padding": 1,
            "device": "meta",
        },
        {
            "H_in = W_in (--size)": (("size",), [8, 4096, 10**6]),
            "N (--batch)": (("batch",), [1, 64, 10**6]),
            "C_in = C_out (--in-channels, --out-channels)": (
                ("in_channels", "out_channels"),
                [1, 1024, 10**5],
            ),
        },
        "`conv --batch 64 --in-channels 1024 --out-channels 1024 --size 4096,4096 --kernel-size 3 "
        "--stride 2 --padding 1 --device meta`",
    ),
    "attention": Sweep(
        "inspect_attention",
        {
            "embed_dim": 8192,
            "num_heads": 64,
            "target_len": 4096,
            "source_len": 4096,
            "batch": 1,
            "batch_first": True,
            "device": "meta",
        },
        {
            "L (--target-len)": (("target_len",), [8, 4096, 131072]),
            "S (--source-len)": (("source_len",), [8, 4096, 131072]),
            "N (--batch)": (("batch",), [1, 64, 4096]),
            "E (--embed-dim)": (("embed_dim",), [64, 8192, 65536]),
        },
        "`attention --embed-dim 8192 --heads 64 --target-len 4096 --source-len 4096 --batch 1 "
        "--batch-first --device meta`",
    ),
    "embedding": Sweep(
        "inspect_embedding",
        {"num_embeddings": 128256, "embedding_dim": 4096, "shape": (1, 131072), "device": "meta"},
        {
            "num_embeddings (--num-embeddings)": (("num_embeddings",), [8, 128256, 10**9]),
            "embedding_dim (--embedding-dim)": (("embedding_dim",), [1, 4096, 10**6]),
        },
        "`embedding --num-embeddings 128256 --embedding-dim 4096 --shape 1,131072 --device meta`",
    ),
    "transformer": Sweep(
        "inspect_transformer",
        {
            "d_model": 1024,
            "nhead": 16,
            "dim_feedforward": 4096,
            "source_len": 4096,
            "batch": 64,
            "device": "meta",
        },
        {
            "S (--source-len)": (("source_len",), [8, 4096, 10**6]),
            "N (--batch)": (("batch",), [1, 64, 10**5]),
            "E (--d-model)": (("d_model",), [16, 1024, 65536]),
        },
        "`transformer --d-model 1024 --nhead 16 --dim-feedforward 4096 --source-len 4096 --batch 64 "
        "--device meta`",
    ),
    "pool": Sweep(
        "inspect_pool",
        {
            "kind": "max",
            "size": 10000,
            "channels": 512,
            "batch": 64,
            "kernel_size": 3,
            "stride": 2,
            "padding": 1,
            "return_indices": True,
            "device": "meta",
        },
        {
            "H_in = W_in (--size)": (("size",), [8, 1000, 10**6]),
            "N (--batch)": (("batch",), [1, 64, 10**6]),
            "C (--channels)": (("channels",), [1, 512, 10**6]),
        },
        "`pool --kind max --size 10000 --channels 512 --batch 64 --kernel-size 3 --stride 2 --padding 1 "
        "--return-indices --device meta`",
    ),
    "expr": Sweep(
        "expr",
        {"expression": "(x.unsqueeze(1) @ w.unsqueeze(0)).softmax(dim=1).sum(dim=0)", "x": 10**6, "w": 10**6},
        {"n (--tensor x=n --tensor w=n): an (n, n) outer product": (("x", "w"), [1, 1000, 10**6, 10**9])},
        "`expr '(x.unsqueeze(1) @ w.unsqueeze(0)).softmax(dim=1).sum(dim=0)' --tensor x=1000000 "
        "--tensor w=1000000` (on meta)",
    ),
}


@dataclass(frozen=True)
class MetaPart:
    """A family on meta: its huge configurations in fresh processes, and its sweep."""

    title: str
    why: str  # why the time does not depend on the sizes
    huge: dict[str, list[str]]  # name → torchshape arguments


META_PARTS = {
    "conv": MetaPart(
        "`torchshape conv` on meta",
        "torch's convolution meta kernels give the output shape in constant time, so `--device meta` "
        "runs the convolution at the sizes asked for.",
        {
            "size 4096,4096": [
                "conv", "--batch", "64", "--in-channels", "1024", "--out-channels", "1024",
                "--size", "4096,4096", "--device", "meta",
            ],
        },
    ),
    "pool": MetaPart(
        "`torchshape pool` on meta",
        "torch's pooling meta kernels give the output shape in constant time, so `--device meta` runs "
        "the pool at the sizes asked for.",
        {
            "max 2-d": [
                "pool", "--kind", "max", "--size", "100000,100000", "--channels", "512", "--batch", "64",
                "--kernel-size", "3", "--stride", "2", "--padding", "1", "--ceil-mode", "--return-indices",
                "--device", "meta",
            ],
            "adaptive-avg 3-d": [
                "pool", "--kind", "adaptive-avg", "--dims", "3", "--size", "10000", "--output-size", "7",
                "--channels", "512", "--batch", "64", "--device", "meta",
            ],
        },
    ),
    "attention": MetaPart(
        "`torchshape attention` on meta",
        "torch's attention meta kernels give every shape in constant time, so `--device meta` runs "
        "nn.MultiheadAttention at the sizes asked for: here a 128 k-token context, embed_dim 8192, "
        "64 heads. Those kernels are torch's Python meta kernels: the first one loads torch's meta "
        "machinery (sympy among it) once per process, which alone costs more than 0.3 × `import torch` "
        "in time and memory (see the model part's floor), so the 1.3 × target cannot hold for any "
        "command that runs them; the sweep shows nothing grows with the sizes.",
        {
            "128 k tokens, per-head weights": [
                "attention", "--self", "--batch-first", "--target-len", "131072", "--embed-dim", "8192",
                "--heads", "64", "--batch", "1", "--per-head-weights", "--device", "meta",
            ],
            "128 k tokens, causal, no weights": [
                "attention", "--self", "--batch-first", "--causal", "--no-need-weights", "--target-len",
                "131072", "--embed-dim", "8192", "--heads", "64", "--batch", "1", "--device", "meta",
            ],
        },
    ),
    "embedding": MetaPart(
        "`torchshape embedding` on meta",
        "torch's embedding meta kernels give the output shape in constant time, so `--device meta` "
        "looks up a 128 k-token context in a 128 k × 4096 table at the sizes asked for.",
        {
            "128 k tokens": [
                "embedding", "--num-embeddings", "128256", "--embedding-dim", "4096", "--shape", "1,131072",
                "--device", "meta",
            ],
        },
    ),
    "transformer": MetaPart(
        "`torchshape transformer` on meta",
        "torch's meta kernels give a transformer layer's shapes in constant time in S, T, N and E; "
        "nn.Transformer runs there with at most 4 layers per stack (its time grows with the "
        "layers, not the sizes), and the rows of the layers left out are marked ✓*. As for "
        "attention, torch's Python meta kernels load its meta machinery once per process, more "
        "than 0.3 × `import torch` on their own; the sweep shows nothing grows with the sizes.",
        {
            "full, S 100000, T 50000": [
                "transformer", "--layer", "full", "--d-model", "1024", "--nhead", "16", "--dim-feedforward",
                "4096", "--source-len", "100000", "--target-len", "50000", "--batch", "64", "--causal",
                "--device", "meta",
            ],
            "encoder, S 1000000, E 8192": [
                "transformer", "--d-model", "8192", "--nhead", "64", "--source-len", "1000000", "--batch",
                "1024", "--src-mask", "3d", "--src-key-padding-mask", "bool", "--device", "meta",
            ],
        },
    ),
    "expr": MetaPart(
        "`torchshape expr` on meta",
        "Shapes alone decide an expression without masks, index tensors or .item(), so it runs on "
        "meta, where torch's kernels give every shape in constant time: here a 10^6 × 10^6 matmul. "
        "matmul's and addition's meta kernels are torch's Python ones: as for attention, the first "
        "loads torch's meta machinery once per process, more than 0.3 × `import torch` on its own "
        "(the same three lines in plain torch cost as much as the command), so the 1.3 × target "
        "cannot hold; the sweep shows nothing grows with the sizes.",
        {
            "10^6 × 10^6 matmul": [
                "expr", "x @ W.T + b", "--tensor", "x=1000000,1000000", "--tensor", "W=1000000,1000000",
                "--tensor", "b=1000000",
            ],
        },
    ),
}  # fmt: skip

CUDA_CONFIG = {"layers": 4, "input": 1024, "hidden": 1024, "seq_len": 512, "batch": 64}
CUDA_REPEATS, CUDA_WARMUP = 10, 3


@dataclass
class Figure:
    """One command, measured in fresh subprocesses."""

    label: str
    argv: list[str]
    env: dict[str, str]
    cwd: str
    times: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def median_s(self) -> float:
        return statistics.median(self.times)

    @property
    def rss_mb(self) -> float:
        return statistics.median(self.rss_kb) / 1024


def measure_once(fig: Figure) -> None:
    """Run the command once in a fresh process: wall time and the child's own peak RSS."""
    with tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        proc = subprocess.Popen(fig.argv, env=fig.env, cwd=fig.cwd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - began
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            fig.failures.append(
                f"exit {proc.returncode}: {err.read().decode(errors='replace').strip()[-300:]}"
            )
    fig.times.append(elapsed)
    fig.rss_kb.append(usage.ru_maxrss)  # kilobytes on Linux


def run_rounds(figures: list[Figure], rounds: int) -> None:
    """One untimed warm-up of each command (file caches), then the rounds, each in a new order."""
    order = random.Random(0)
    for fig in figures:
        measure_once(fig)
        fig.times.clear()
        fig.rss_kb.clear()
    for number in range(rounds):
        shuffled = figures[:]
        order.shuffle(shuffled)
        for fig in shuffled:
            measure_once(fig)
        print(f"  round {number + 1}/{rounds} done", file=sys.stderr)


def compile_package() -> None:
    """Write torchshape's bytecode, as ``pip install`` does, so that no timed run compiles source.

    torch and typer come from site-packages with their bytecode; a checkout run with
    ``PYTHONDONTWRITEBYTECODE`` set would otherwise compile torchshape on every run.
    """
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "torchshape")], check=True)


def torchshape_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def torchshape_argv(*args: str) -> list[str]:
    """torchshape as its console script runs it: import the entry point, call it."""
    return [PY, "-c", "from torchshape.cli import run; run()", *args]


def torch_imported_by_help(env: dict[str, str]) -> bool:
    code = (
        "import sys, io, contextlib\n"
        "from torchshape.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--help']); main(['rnn', '--help'])\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([PY, "-c", code], env=env, cwd=str(ROOT), capture_output=True, text=True, check=True)
    return out.stdout.strip() != "False"


# --- in-process workers (run as `python benchmarks/run.py --worker ...` in a fresh process) ---------


def sweep_worker(family: str) -> None:
    """Best time of the family's inspect function at each sweep point, torch already imported."""
    import importlib

    import torchshape

    sweep = SWEEPS[family]
    inspect = getattr(torchshape, sweep.function)
    memos = []
    for name in sweep.memos:
        module, function = name.split(":")
        memos.append(getattr(importlib.import_module(module), function))
    inspect(**sweep.base)  # first call: one-time costs inside torch, paid by every command equally
    results: dict[str, list[tuple[int, float]]] = {}
    for label, (names, values) in sweep.axes.items():
        for value in values:
            settings = {**sweep.base, **dict.fromkeys(names, value)}
            times = []
            for _ in range(SWEEP_REPEATS):
                for memo in memos:
                    memo.cache_clear()
                began = time.perf_counter()
                report = inspect(**settings)
                times.append(time.perf_counter() - began)
                assert report.ok
            results.setdefault(label, []).append((value, min(times) * 1000))
    print(json.dumps(results))


# (figure, value, beside a GC-paused import, target, met)
Check = tuple[str, str, str, str, bool]


def sweep_checks(family: str, results: dict[str, list[tuple[int, float]]], floor_ms: float) -> list[Check]:
    """Across each sweep, the slowest point within SWEEP_SPREAD of `import torch` of the fastest."""
    limit = SWEEP_SPREAD * floor_ms
    checks = []
    for label, points in results.items():
        spread = max(ms for _, ms in points) - min(ms for _, ms in points)
        checks.append(
            (f"{family} sweep of {label}: slowest − fastest point", f"{spread:.1f} ms", "",
             f"≤ {limit:.0f} ms (5 % of `import torch`)", spread <= limit)
        )  # fmt: skip
    return checks


def sweep_lines(family: str, results: dict[str, list[tuple[int, float]]]) -> list[str]:
    """What the sweep timed, and its table."""
    sweep = SWEEPS[family]
    return [
        f"Below: `torchshape.{sweep.function}(...)` in one process after torch is imported, best of "
        f"{SWEEP_REPEATS}, one dimension varied at a time, the others as in {sweep.described}.",
        "",
        "| varied | value → ms |",
        "|---|---|",
        *(
            f"| {label} | {', '.join(f'{v:,} → {ms:.1f}' for v, ms in points)} |"
            for label, points in results.items()
        ),
        "",
    ]


def meta_part(family: str, env: dict[str, str], rounds: int) -> tuple[list[str], list[Check], list[Figure]]:
    """Measure torchshape conv or pool on meta at huge sizes and its sweep, beside its own
    `import torch` baseline timed in the same rounds: lines, checks, figures (the baseline first)."""
    part = META_PARTS[family]
    torch_fig = Figure(
        f'python -c "import torch" ({family} rounds)', [PY, "-c", "import torch"], env, str(ROOT)
    )
    figs = [
        Figure(f"torchshape {' '.join(args)}", torchshape_argv(*args), env, str(ROOT))
        for args in part.huge.values()
    ]
    run_rounds([torch_fig, *figs], rounds)
    sweep = worker_json(env, "sweep", family)
    checks: list[Check] = []
    for name, fig in zip(part.huge, figs, strict=True):
        for what, value in (
            ("time", fig.median_s / torch_fig.median_s),
            ("peak RSS", fig.rss_mb / torch_fig.rss_mb),
        ):
            checks.append(
                (
                    f"meta {family} {name}: {what} / `import torch`",
                    f"{value:.2f}×",
                    "",
                    "≤ 1.3×",
                    value <= 1.3,
                )
            )
    checks += sweep_checks(family, sweep, torch_fig.median_s * 1000)
    lines = [f"## {part.title}", "", part.why, "", *sweep_lines(family, sweep)]
    return lines, checks, [torch_fig, *figs]


# --- torchshape model -----------------------------------------------------------------------------

MODELS_FILE = "benchmarks/models.py"
# The input of each model (SHAPE:DTYPE), as benchmarks/models.py names them.
DECODER_INPUTS = ("1,2048:int64",)
SEQ2SEQ_INPUTS = ("64,1000:int64", "64,200:int64")
LANGUAGE_MODEL_INPUTS = ("4,64:int64",)
# torchinfo.summary of LanguageModel on the same input as torchshape's: the same tokens' shape and
# range (its embedding's 20000 entries), every depth and the input and output shapes shown.
TORCHINFO_SCRIPT = """\
import torch, torchinfo
from benchmarks.models import LanguageModel
torch.manual_seed(0)
model = LanguageModel()
tokens = torch.randint(0, 20000, (4, 64))
torchinfo.summary(model, input_data=[tokens], col_names=("input_size", "output_size", "num_params"),
                  depth=10, device="cpu", verbose=1)
"""
TORCHINFO_HOW = (
    "install it into the python that runs this script (`pip install torchinfo`), or run this "
    "script with a python that has it: `python -m venv --system-site-packages VENV && "
    "VENV/bin/pip install torchinfo && VENV/bin/python benchmarks/run.py --only model`"
)


def model_argv(name: str, inputs: tuple[str, ...], *more: str) -> list[str]:
    args = ["model", f"{MODELS_FILE}:{name}"]
    for one in inputs:
        args += ["--input", one]
    return torchshape_argv(*args, *more)


def torchinfo_available(env: dict[str, str]) -> bool:
    probe = subprocess.run([PY, "-c", "import torchinfo"], env=env, cwd=str(ROOT), capture_output=True)
    return probe.returncode == 0


def params_worker() -> None:
    """Each benchmark model's parameter count, built on meta."""
    import torch

    sys.path.insert(0, str(ROOT))
    from benchmarks import models

    counts = {}
    with torch.device("meta"):
        for name in ("Decoder", "Seq2Seq", "LanguageModel"):
            counts[name] = sum(p.numel() for p in getattr(models, name)().parameters())
    print(json.dumps(counts))


def model_part(env: dict[str, str], rounds: int) -> tuple[list[str], list[Check], list[Figure]]:
    """``torchshape model`` on the models of benchmarks/models.py, beside baselines timed in the
    same rounds: lines, checks, figures (the baselines first)."""
    cwd = str(ROOT)
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / MODELS_FILE)], check=True)  # as torchshape's
    torch_fig = Figure('python -c "import torch" (model rounds)', [PY, "-c", "import torch"], env, cwd)
    import_fig = Figure(
        'python -c "import torch; import benchmarks.models"',
        [PY, "-c", "import torch; import benchmarks.models"],
        env,
        cwd,
    )
    # torch's floor for anything traced on meta: the first meta kernel that torch runs in Python
    # loads its meta machinery (sympy among it) once per process
    floor_fig = Figure(
        'python -c "import torch; import benchmarks.models; <one meta kernel>"',
        [PY, "-c", "import torch; import benchmarks.models; torch.empty(1, device='meta').normal_()"],
        env,
        cwd,
    )
    bare_fig = Figure(
        f"python {MODELS_FILE} decoder (Decoder built on meta, forward on meta)",
        [PY, MODELS_FILE, "decoder"],
        env,
        cwd,
    )
    decoder_fig = Figure(
        f"torchshape model {MODELS_FILE}:Decoder --input {DECODER_INPUTS[0]} --device meta",
        model_argv("Decoder", DECODER_INPUTS, "--device", "meta"),
        env,
        cwd,
    )
    seq2seq_fig = Figure(
        f"torchshape model {MODELS_FILE}:Seq2Seq --input {' --input '.join(SEQ2SEQ_INPUTS)} --device meta",
        model_argv("Seq2Seq", SEQ2SEQ_INPUTS, "--device", "meta"),
        env,
        cwd,
    )
    lm_fig = Figure(
        f"torchshape model {MODELS_FILE}:LanguageModel --input {LANGUAGE_MODEL_INPUTS[0]}",
        model_argv("LanguageModel", LANGUAGE_MODEL_INPUTS),
        env,
        cwd,
    )
    figs = [torch_fig, import_fig, floor_fig, bare_fig, decoder_fig, seq2seq_fig, lm_fig]
    torchinfo_fig = None
    if torchinfo_available(env):
        torchinfo_fig = Figure(
            "torchinfo.summary(LanguageModel(), input_data=[tokens (4, 64)], depth=10)",
            [PY, "-c", TORCHINFO_SCRIPT],
            env,
            cwd,
        )
        figs.append(torchinfo_fig)
    else:
        print(f"torchinfo comparison skipped: `import torchinfo` fails in {PY}; to enable it, "
              f"{TORCHINFO_HOW}", file=sys.stderr)  # fmt: skip
    run_rounds(figs, rounds)
    counts = worker_json(env, "params")

    checks: list[Check] = []

    def check(name: str, fig: Figure, base: Figure, what: str, target: float) -> None:
        value = fig.median_s / base.median_s if what == "time" else fig.rss_mb / base.rss_mb
        checks.append((name, f"{value:.2f}×", "", f"≤ {target}×", value <= target and not fig.failures))

    decoder = f"model: {counts['Decoder'] / 1e9:.1f} B decoder on meta"
    check(f"{decoder}: time / bare build + forward on meta", decoder_fig, bare_fig, "time", 1.5)
    check(f"{decoder}: peak RSS / `import torch`", decoder_fig, torch_fig, "rss", 1.3)
    seq2seq = "model: seq2seq, 8-layer bidirectional LSTM 4096, on meta"
    check(f"{seq2seq}: time / `import torch` + importing the model", seq2seq_fig, import_fig, "time", 1.3)
    check(f"{seq2seq}: peak RSS / `import torch` + importing the model", seq2seq_fig, import_fig, "rss", 1.3)

    lines = [
        "## `torchshape model`",
        "",
        f"The models are defined in [{MODELS_FILE}]({MODELS_FILE}) with plain nn layers: `Decoder`, a "
        f"decoder-only transformer ({counts['Decoder']:,} parameters: 32 layers, d_model 4096, 32 heads, "
        "feed-forward 11008, vocabulary 32000), input "
        f"`{DECODER_INPUTS[0]}`; `Seq2Seq`, an 8-layer bidirectional LSTM encoder of hidden size 4096 "
        f"and an LSTM decoder ({counts['Seq2Seq']:,} parameters), inputs "
        f"{', '.join(f'`{one}`' for one in SEQ2SEQ_INPUTS)}; `LanguageModel`, a 3-layer LSTM "
        f"language model ({counts['LanguageModel']:,} parameters), input `{LANGUAGE_MODEL_INPUTS[0]}`, "
        "on the CPU.",
        "",
        'The 7 B decoder\'s baseline is the same model built under `with torch.device("meta")` and its '
        f"forward run on a meta input, without torchshape (`python {MODELS_FILE} decoder`). Beside it "
        f"for information: its peak RSS is {decoder_fig.rss_mb / bare_fig.rss_mb:.2f}× the baseline's, "
        f"and the baseline's own is {bare_fig.rss_mb / torch_fig.rss_mb:.2f}× `import torch` "
        "(torch loads its Python meta kernels the first time a meta operation needs one).",
        "",
    ]
    lines += [
        "torch's own floor for anything traced on meta: the first meta kernel torch runs in Python "
        "loads its meta machinery (sympy among it), once per process. `import torch`, importing the "
        f"models and one meta kernel take {floor_fig.median_s / import_fig.median_s:.2f}× the time and "
        f"{floor_fig.rss_mb / import_fig.rss_mb:.2f}× the peak RSS of `import torch` and importing the "
        "models. Against that floor, the seq2seq on meta takes "
        f"{seq2seq_fig.median_s / floor_fig.median_s:.2f}× "
        f"the time and {seq2seq_fig.rss_mb / floor_fig.rss_mb:.2f}× the peak RSS, and the 7 B decoder "
        f"{decoder_fig.rss_mb / floor_fig.rss_mb:.2f}× the peak RSS: nothing grows with the models' sizes.",
        "",
    ]
    lines += [f"On the CPU: `{lm_fig.label}` beside `torchinfo.summary` of the same model and input.", ""]
    if torchinfo_fig is None:
        lines += [
            f"Skipped: `import torchinfo` fails in this python; to enable the comparison, {TORCHINFO_HOW}.",
            "",
        ]
    else:
        lines += [
            "| command | median s | min s | max s | peak RSS MB |",
            "|---|---|---|---|---|",
            *(
                f"| `{f.label}` | {f.median_s:.3f} | {min(f.times):.3f} | {max(f.times):.3f} "
                f"| {f.rss_mb:.0f} |"
                for f in (lm_fig, torchinfo_fig)
            ),
            f"| torchshape / torchinfo | {lm_fig.median_s / torchinfo_fig.median_s:.2f}× "
            f"| {min(lm_fig.times) / min(torchinfo_fig.times):.2f}× | "
            f"| {lm_fig.rss_mb / torchinfo_fig.rss_mb:.2f}× |",
            "",
            "Both run the model's forward pass once on the CPU under `torch.no_grad()` (torchshape "
            "after its trial on meta). On a small shared machine the first forward "
            "pass of a freshly built model varies by seconds from run to run; `--rounds` evens it out.",
            "",
        ]
    return lines, checks, figs


def print_part(family: str, rounds: int) -> int:
    """``--only conv``, ``pool`` or ``model``: that part alone, printed (BENCHMARKS.md is left as it is)."""
    env = torchshape_env()
    lines, checks, figs = model_part(env, rounds) if family == "model" else meta_part(family, env, rounds)
    print("| figure | value | target | result |\n|---|---|---|---|")
    for name, value, _, target, met in checks:
        print(f"| {name} | {value} | {target} | {'pass' if met else 'FAIL'} |")
    print("\n| command | median s | peak RSS MB | failures |\n|---|---|---|---|")
    for f in figs:
        print(f"| `{f.label}` | {f.median_s:.3f} | {f.rss_mb:.0f} | {'; '.join(dict.fromkeys(f.failures))} |")
    print()
    print("\n".join(lines))
    return 0 if all(met for *_, met in checks) and not any(f.failures for f in figs) else 1


def cuda_worker(dtype_name: str) -> None:
    """An independent measurement of the same forward pass: plain torch and CUDA events."""
    import torch

    cfg = CUDA_CONFIG
    dtype = getattr(torch, dtype_name)
    device = torch.device("cuda")
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(cfg["input"], cfg["hidden"], num_layers=cfg["layers"], device=device, dtype=dtype)
    lstm.eval()
    x = torch.randn(cfg["seq_len"], cfg["batch"], cfg["input"], device=device, dtype=dtype)
    h0 = torch.randn(cfg["layers"], cfg["batch"], cfg["hidden"], device=device, dtype=dtype)
    c0 = torch.randn(cfg["layers"], cfg["batch"], cfg["hidden"], device=device, dtype=dtype)
    with torch.inference_mode():
        for _ in range(CUDA_WARMUP):
            lstm(x, (h0, c0))
        torch.cuda.synchronize()
        events = []
        for _ in range(CUDA_REPEATS):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            lstm(x, (h0, c0))
            end.record()
            events.append((start, end))
        torch.cuda.synchronize()
    times = [start.elapsed_time(end) for start, end in events]
    print(
        json.dumps(
            {
                "median_ms": statistics.median(times),
                "min_ms": min(times),
                "max_ms": max(times),
                "card": torch.cuda.get_device_name(device),
                "torch": torch.__version__,
                "cudnn": torch.backends.cudnn.version(),
            }
        )
    )


def worker_json(env: dict[str, str], *args: str) -> dict:
    out = subprocess.run(
        [PY, str(Path(__file__).resolve()), "--worker", *args],
        env=env,
        cwd=str(ROOT),
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"worker {args} failed: {out.stderr.strip()[-500:]}")
    return json.loads(out.stdout)


def cuda_available(env: dict[str, str]) -> bool:
    probe = "import torch; print(torch.cuda.is_available())"
    out = subprocess.run([PY, "-c", probe], env=env, capture_output=True, text=True)
    return out.stdout.strip() == "True"


def cuda_section(env: dict[str, str]) -> tuple[list[str], bool]:
    """Lines for BENCHMARKS.md and whether --time agreed with the independent measurement."""
    cfg = CUDA_CONFIG
    lines = ["## `--time` on a GPU", ""]
    if not cuda_available(env):
        lines += ["Skipped: no CUDA device on this machine.", ""]
        return lines, True
    ok = True
    rows = []
    card = ""
    for dtype in ("float32", "bfloat16"):
        args = ["rnn", "--kind", "lstm", "--layers", str(cfg["layers"]), "--input-size", str(cfg["input"])]
        args += ["--hidden-size", str(cfg["hidden"]), "--seq-len", str(cfg["seq_len"])]
        args += ["--batch", str(cfg["batch"]), "--device", "cuda", "--dtype", dtype, "--time"]
        args += ["--repeats", str(CUDA_REPEATS), "--warmup", str(CUDA_WARMUP), "--format", "json"]
        out = subprocess.run(torchshape_argv(*args), env=env, cwd=str(ROOT), capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"torchshape --time failed: {out.stderr.strip()}")
        ours = json.loads(out.stdout)["timing"]
        theirs = worker_json(env, "cuda", dtype)
        card = f"{theirs['card']} (torch {theirs['torch']}, cuDNN {theirs['cudnn']})"
        ratio = ours["median_ms"] / theirs["median_ms"]
        agrees = 0.8 <= ratio <= 1.25
        ok &= agrees
        rows.append(
            f"| {dtype} | {ours['median_ms']:.2f} ({ours['min_ms']:.2f}–{ours['max_ms']:.2f}) "
            f"| {theirs['median_ms']:.2f} ({theirs['min_ms']:.2f}–{theirs['max_ms']:.2f}) "
            f"| {ratio:.2f}× | 0.8–1.25× | {'pass' if agrees else 'FAIL'} "
            f"| {ours['flops_per_s'] / 1e12:.1f} |"
        )
    lines += [
        f"Card: {card}. nn.LSTM({cfg['input']}, {cfg['hidden']}, num_layers={cfg['layers']}), "
        f"seq-len {cfg['seq_len']}, batch {cfg['batch']}; {CUDA_WARMUP} warm-up runs, then the median of "
        f"{CUDA_REPEATS} timed with CUDA events, by `torchshape --time` and by an independent loop in "
        "this script (`cuda_worker`).",
        "",
        "| dtype | `--time` median (min–max) ms | independent median (min–max) ms | ratio | target "
        "| result | TFLOP/s (`--time`) |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]
    return lines, ok


# --- the report -----------------------------------------------------------------------------------


def machine() -> list[tuple[str, str]]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    return [
        ("CPU", cpu),
        ("cores", f"{os.cpu_count()} ({usable} usable by this process)"),
        ("RAM", ram),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("torch", version("torch")),
        ("typer", version("typer")),
        ("rich", version("rich")),
        ("load average at start (1, 5, 15 min)", ", ".join(f"{x:.2f}" for x in os.getloadavg())),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only",
        choices=["conv", "pool", "attention", "embedding", "transformer", "model", "expr"],
        help="measure one part alone and print it (BENCHMARKS.md is kept)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of each command (default 3)")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.worker:
        if opts.worker[0] == "sweep":
            sweep_worker(opts.worker[1])
        elif opts.worker[0] == "params":
            params_worker()
        else:
            cuda_worker(opts.worker[1])
        return 0
    if opts.rounds < 1:
        parser.error("--rounds: use 1 or more")
    compile_package()
    if opts.only:
        return print_part(opts.only, opts.rounds)

    started = time.perf_counter()
    env = torchshape_env()
    info = machine()
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "app.py").write_text(TYPER_APP)
        app_env = {**os.environ, "PYTHONPATH": tmp}
        fig = {
            "python": Figure("python -c pass", [PY, "-c", "pass"], env, str(ROOT)),
            "torch": Figure('python -c "import torch"', [PY, "-c", "import torch"], env, str(ROOT)),
            # for information: the torchshape command pauses the cyclic garbage collector
            # (torchshape/startup.py), which also shortens its own torch import
            "torch_nogc": Figure(
                'python -c "import gc; gc.disable(); import torch"',
                [PY, "-c", "import gc; gc.disable(); import torch"],
                env,
                str(ROOT),
            ),
            "typer": Figure(
                "one-command Typer app --help",
                [PY, "-c", "from app import app; app()", "--help"],
                app_env,
                tmp,
            ),
            "help": Figure("torchshape --help", torchshape_argv("--help"), env, str(ROOT)),
            "version": Figure("torchshape --version", torchshape_argv("--version"), env, str(ROOT)),
            "design": Figure(
                "torchshape rnn --kind lstm --layers 2 --bidir",
                torchshape_argv("rnn", "--kind", "lstm", "--layers", "2", "--bidir"),
                env,
                str(ROOT),
            ),
        }
        huge = []
        for kind in ("gru", "lstm", "rnn"):
            for seq_len in ("1000", "100000"):
                args = ["rnn", "--kind", kind, *HUGE, "--seq-len", seq_len, "--device", "meta"]
                huge.append(Figure(f"torchshape {' '.join(args)}", torchshape_argv(*args), env, str(ROOT)))
        print(f"measuring {len(fig) + len(huge)} commands, {opts.rounds} rounds each", file=sys.stderr)
        run_rounds([*fig.values(), *huge], opts.rounds)
    parts = {}
    for family in META_PARTS:
        print(f"torchshape {family} on meta", file=sys.stderr)
        parts[family] = meta_part(family, env, opts.rounds)
    print("torchshape model", file=sys.stderr)
    parts["model"] = model_part(env, opts.rounds)
    part_lines = [line for lines, _, _ in parts.values() for line in lines]
    part_figs = [f for _, _, figs in parts.values() for f in figs]
    help_imports_torch = torch_imported_by_help(env)
    print("rnn sweep (in-process)", file=sys.stderr)
    sweep = worker_json(env, "sweep", "rnn")
    print("CUDA", file=sys.stderr)
    cuda_lines, cuda_ok = cuda_section(env)

    failures = [f"{f.label}: {msg}" for f in [*fig.values(), *huge, *part_figs] for msg in f.failures]
    checks: list[Check] = []

    def ratio_check(name: str, a: Figure, b: Figure, target: float, what: str = "time") -> None:
        value = a.median_s / b.median_s if what == "time" else a.rss_mb / b.rss_mb
        paused = ""
        if b is fig["torch"] and what == "time":
            paused = f"{a.median_s / fig['torch_nogc'].median_s:.2f}×"
        checks.append((name, f"{value:.2f}×", paused, f"≤ {target}×", value <= target))

    ratio_check("`torchshape --help` / one-command Typer app `--help`", fig["help"], fig["typer"], 1.2)
    ratio_check("`torchshape --version` / `torchshape --help`", fig["version"], fig["help"], 1.2)
    imported = "yes" if help_imports_torch else "no"
    checks.append(("torch imported by `torchshape --help`", imported, "", "no", not help_imports_torch))
    ratio_check("design example / `import torch`", fig["design"], fig["torch"], 1.25)
    note = [
        "The torchshape command pauses Python's cyclic garbage collector (torchshape/startup.py), "
        "which also makes its own `import torch` faster than the baseline's. The column *beside a "
        'GC-paused import* divides by `python -c "import gc; gc.disable(); import torch"` instead: '
        "torchshape's own cost beside an equally fast torch import. The huge configurations are "
        "`--input-size 4096 --hidden-size 4096 --layers 8 --bidir --batch 64 --device meta` with the "
        "kind and seq-len named.",
        "",
    ]
    for f in huge:
        words = f.label.split()
        short = f"meta {words[words.index('--kind') + 1]}, L = {words[words.index('--seq-len') + 1]}"
        ratio_check(f"{short}: time / `import torch`", f, fig["torch"], 1.3)
        ratio_check(f"{short}: peak RSS / `import torch`", f, fig["torch"], 1.3, what="rss")
    checks += sweep_checks("rnn", sweep, fig["torch"].median_s * 1000)
    checks += [check for _, part_checks, _ in parts.values() for check in part_checks]
    all_ok = all(met for *_, met in checks) and cuda_ok and not failures

    md = [
        "# Benchmarks",
        "",
        f"Reproduce with `{REPRODUCE}` (here: {opts.rounds} rounds, "
        f"{time.perf_counter() - started:.0f} s in all; written "
        f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}). "
        "Each figure is the median over the rounds of a fresh subprocess; each ratio is against "
        "a baseline timed in the same rounds, in a shuffled order. Peak RSS is the subprocess's "
        "own maximum resident set size. torchshape runs as its console script does "
        '(`python -c "from torchshape.cli import run; run()" ARGS`).',
        "",
        f"**{'Every target met.' if all_ok else 'Some targets missed: see FAIL below.'}**",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in info),
        f"| load average at end | {', '.join(f'{x:.2f}' for x in os.getloadavg())} |",
        "",
        "## Targets",
        "",
        *note,
        "| figure | value | beside a GC-paused import | target | result |",
        "|---|---|---|---|---|",
        *(
            f"| {name} | {value} | {paused} | {target} | {'pass' if met else 'FAIL'} |"
            for name, value, paused, target, met in checks
        ),
        "",
        "## Every command",
        "",
        "| command | median s | min s | max s | peak RSS MB |",
        "|---|---|---|---|---|",
        *(
            f"| `{f.label}` | {f.median_s:.3f} | {min(f.times):.3f} | {max(f.times):.3f} | {f.rss_mb:.0f} |"
            for f in [*fig.values(), *huge, *part_figs]
        ),
        "",
        "## Constant in the sizes",
        "",
        "On `--device meta` torchshape runs the module on the CPU at small probe sizes whatever the sizes "
        'asked for (see [docs/rnn.md, "How shapes are verified"](docs/rnn.md#how-shapes-are-verified)), '
        "so its time does not depend on them.",
        "",
        *sweep_lines("rnn", sweep),
        *part_lines,
        *cuda_lines,
    ]
    if failures:
        md += ["## Failed commands", "", *(f"- {line}" for line in failures), ""]
    opts.output.write_text("\n".join(md))
    print(f"wrote {opts.output}: {'every target met' if all_ok else 'targets missed'}", file=sys.stderr)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
