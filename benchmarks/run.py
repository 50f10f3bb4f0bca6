"""Measure how long torchshape makes its users wait, and write BENCHMARKS.md.

    python benchmarks/run.py [--rounds 3] [--output BENCHMARKS.md]

Every figure is the median over several rounds of a fresh subprocess, set against
a baseline timed in the same run (the same rounds, in a shuffled order), so a busy
or slow machine moves both. Peak memory is each subprocess's own maximum resident
set size (``os.wait4``). Targets:

1. ``torchshape --help`` at most 1.2 × the ``--help`` of a one-command Typer app
   written here, and torch never imported.
2. The design example ``torchshape rnn --kind lstm --layers 2 --bidir`` at most
   1.25 × ``python -c "import torch"``.
3. GRU, LSTM and RNN with input and hidden size 4096, 8 layers, bidirectional,
   batch 64, seq-len 1000 and 100000, on ``--device meta``: at most 1.3 × the time
   and 1.3 × the peak memory of ``import torch``; and the time does not grow with
   L, N, H or the number of layers: in a sweep from 1 to far beyond the sizes
   above, the slowest point is within 5 % of ``import torch`` of the fastest.

4. ``torchshape conv`` on ``--device meta`` at a huge size (batch 64, channels 1024,
   size 4096,4096): at most 1.3 × the time and peak memory of ``import torch``, and flat
   across sizes (``--only conv`` measures this part alone).
4. ``torchshape pool`` on ``--device meta`` at huge sizes (a 2-d max pool over
   64 × 512 × 100000 × 100000, a 3-d adaptive-avg pool over 64 × 512 × 10000³): at most
   1.3 × the time and peak memory of ``import torch``, and flat across sizes (N, C and
   the spatial size swept from 1 to 10⁶, as in 3). torch's pooling meta kernels run at
   the user's sizes, so nothing is scaled down. ``--only pool`` runs this part alone and
   prints its section instead of writing BENCHMARKS.md.

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

# One dimension at a time, from 1 to far beyond the huge configurations, the others
# as in them (LSTM, 4096, 8 layers, bidirectional, batch 64, seq-len 1000).
SWEEP_BASE = {
    "kind": "lstm",
    "input_size": 4096,
    "hidden_size": 4096,
    "num_layers": 8,
    "bidirectional": True,
    "batch": 64,
    "seq_len": 1000,
    "device": "meta",
}
SWEEP = {
    "L (--seq-len)": ("seq_len", [1, 1000, 10**7]),
    "N (--batch)": ("batch", [1, 64, 10**6]),
    "H_in = H_cell (--input-size, --hidden-size)": (("input_size", "hidden_size"), [1, 4096, 10**6]),
    "num_layers (--layers)": ("num_layers", [1, 8, 1024]),
}
SWEEP_REPEATS = 7
# Constant time: across each sweep, the slowest point's best time may exceed the fastest
# point's by at most this fraction of `import torch` (the floor every command pays).
SWEEP_SPREAD = 0.05

CONV_HUGE = ["conv", "--batch", "64", "--in-channels", "1024", "--out-channels", "1024", "--device", "meta"]
CONV_SIZES = ["32,24", "4096,4096", "65536,65536"]
POOL_HUGE = {
    "max 2-d": [
        "pool", "--kind", "max", "--size", "100000,100000", "--channels", "512", "--batch", "64",
        "--kernel-size", "3", "--stride", "2", "--padding", "1", "--ceil-mode", "--return-indices",
        "--device", "meta",
    ],
    "adaptive-avg 3-d": [
        "pool", "--kind", "adaptive-avg", "--dims", "3", "--size", "10000", "--output-size", "7",
        "--channels", "512", "--batch", "64", "--device", "meta",
    ],
}  # fmt: skip
POOL_SWEEP_BASE = {
    "kind": "max",
    "size": 10000,
    "channels": 512,
    "batch": 64,
    "kernel_size": 3,
    "stride": 2,
    "padding": 1,
    "return_indices": True,
    "device": "meta",
}
POOL_SWEEP = {
    "H_in = W_in (--size)": ("size", [8, 1000, 10**6]),
    "N (--batch)": ("batch", [1, 64, 10**6]),
    "C (--channels)": ("channels", [1, 512, 10**6]),
}

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


def sweep_worker() -> None:
    """Best time of torchshape.inspect for each sweep point, torch already imported."""
    from torchshape import inspect
    from torchshape.families.rnn import counts

    inspect(**SWEEP_BASE)  # first call: one-time costs inside torch, paid by every command equally
    results: dict[str, list[tuple[int, float]]] = {}
    for label, (keys, values) in SWEEP.items():
        names = keys if isinstance(keys, tuple) else (keys,)
        for value in values:
            settings = {**SWEEP_BASE, **dict.fromkeys(names, value)}
            times = []
            for _ in range(SWEEP_REPEATS):
                # a command runs once per process: time it with the formulas' memos empty
                counts.parameter_formulas.cache_clear()
                counts.parameters_at_size.cache_clear()
                began = time.perf_counter()
                report = inspect(**settings)
                times.append(time.perf_counter() - began)
                assert report.ok
            results.setdefault(label, []).append((value, min(times) * 1000))
    print(json.dumps(results))


def pool_sweep_worker() -> None:
    """Best time of torchshape.inspect_pool for each sweep point, torch already imported."""
    from torchshape import inspect_pool

    inspect_pool(**POOL_SWEEP_BASE)
    results: dict[str, list[tuple[int, float]]] = {}
    for label, (key, values) in POOL_SWEEP.items():
        for value in values:
            times = []
            for _ in range(SWEEP_REPEATS):
                began = time.perf_counter()
                report = inspect_pool(**{**POOL_SWEEP_BASE, key: value})
                times.append(time.perf_counter() - began)
                assert report.ok
            results.setdefault(label, []).append((value, min(times) * 1000))
    print(json.dumps(results))


def pool_part(
    env: dict[str, str], rounds: int
) -> tuple[list[str], list[tuple[str, str, str, str, bool]], list[Figure]]:
    """Measure torchshape pool on meta at huge sizes and its sweep, beside its own `import torch`
    baseline timed in the same rounds: lines, checks, figures (the baseline first)."""
    torch_fig = Figure('python -c "import torch" (pool rounds)', [PY, "-c", "import torch"], env, str(ROOT))
    figs = [
        Figure(f"torchshape {' '.join(args)}", torchshape_argv(*args), env, str(ROOT))
        for args in POOL_HUGE.values()
    ]
    run_rounds([torch_fig, *figs], rounds)
    sweep = worker_json(env, "pool-sweep")
    checks: list[tuple[str, str, str, str, bool]] = []
    for name, fig in zip(POOL_HUGE, figs, strict=True):
        for what, value in (
            ("time", fig.median_s / torch_fig.median_s),
            ("peak RSS", fig.rss_mb / torch_fig.rss_mb),
        ):
            checks.append(
                (f"meta pool {name}: {what} / `import torch`", f"{value:.2f}×", "", "≤ 1.3×", value <= 1.3)
            )
    floor_ms = torch_fig.median_s * 1000
    for label, points in sweep.items():
        spread = max(ms for _, ms in points) - min(ms for _, ms in points)
        limit = SWEEP_SPREAD * floor_ms
        checks.append(
            (f"pool sweep of {label}: slowest − fastest point", f"{spread:.1f} ms", "",
             f"≤ {limit:.0f} ms (5 % of `import torch`)", spread <= limit)
        )  # fmt: skip
    lines = [
        "## `torchshape pool` on meta",
        "",
        "torch's pooling meta kernels give the output shape in constant time, so `--device meta` runs the "
        "pool at the sizes asked for. Below: `torchshape.inspect_pool(...)` in one process after torch is "
        f"imported, best of {SWEEP_REPEATS}, one dimension varied at a time, the others as in "
        "`pool --kind max --size 10000 --channels 512 --batch 64 --kernel-size 3 --stride 2 --padding 1 "
        "--return-indices --device meta`.",
        "",
        "| varied | value → ms |",
        "|---|---|",
        *(
            f"| {label} | {', '.join(f'{v:,} → {ms:.1f}' for v, ms in points)} |"
            for label, points in sweep.items()
        ),
        "",
    ]
    return lines, checks, [torch_fig, *figs]


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


def conv_figures(env: dict[str, str]) -> list[Figure]:
    """torchshape conv on meta, from a small size to far beyond the huge one."""
    return [
        Figure(
            f"torchshape {' '.join([*CONV_HUGE, '--size', size])}",
            torchshape_argv(*CONV_HUGE, "--size", size),
            env,
            str(ROOT),
        )
        for size in CONV_SIZES
    ]


def conv_checks(torch_fig: Figure, figures: list[Figure]) -> list[tuple[str, str, str, str, bool]]:
    """Each size within 1.3 × import torch (time and RSS); the sizes within 5 % of it of each other."""
    checks = []
    for f in figures:
        size = f.label.split("--size ")[1]
        time_ratio = f.median_s / torch_fig.median_s
        rss_ratio = f.rss_mb / torch_fig.rss_mb
        checks.append(
            (
                f"conv meta, size {size}: time / `import torch`",
                f"{time_ratio:.2f}×",
                "",
                "≤ 1.3×",
                time_ratio <= 1.3 and not f.failures,
            )
        )
        checks.append(
            (
                f"conv meta, size {size}: peak RSS / `import torch`",
                f"{rss_ratio:.2f}×",
                "",
                "≤ 1.3×",
                rss_ratio <= 1.3,
            )
        )
    # best of the rounds: the floor each size pays, less the machine's noise
    spread = (max(min(f.times) for f in figures) - min(min(f.times) for f in figures)) * 1000
    limit = SWEEP_SPREAD * torch_fig.median_s * 1000
    checks.append(
        (
            "conv meta sweep of --size: slowest − fastest",
            f"{spread:.1f} ms",
            "",
            f"≤ {limit:.0f} ms (5 % of `import torch`)",
            spread <= limit,
        )
    )
    return checks


def conv_only(rounds: int) -> int:
    """``--only conv``: the conv targets alone, printed (BENCHMARKS.md is left as it is)."""
    env = torchshape_env()
    torch_fig = Figure('python -c "import torch"', [PY, "-c", "import torch"], env, str(ROOT))
    figures = conv_figures(env)
    run_rounds([torch_fig, *figures], rounds)
    print(f"import torch: {torch_fig.median_s:.3f} s, {torch_fig.rss_mb:.0f} MB")
    for f in figures:
        print(f"{f.label}: {f.median_s:.3f} s, {f.rss_mb:.0f} MB {f.failures or ''}")
    checks = conv_checks(torch_fig, figures)
    for name, value, _, target, met in checks:
        print(f"{'pass' if met else 'FAIL'}  {name}: {value} (target {target})")
    return 0 if all(met for *_, met in checks) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", choices=["conv", "pool"], help="measure one part alone and print it (BENCHMARKS.md is kept)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of each command (default 3)")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.worker:
        if opts.worker[0] == "sweep":
            sweep_worker()
        elif opts.worker[0] == "pool-sweep":
            pool_sweep_worker()
        else:
            cuda_worker(opts.worker[1])
        return 0
    if opts.rounds < 1:
        parser.error("--rounds: use 1 or more")
    if opts.only == "conv":
        return conv_only(opts.rounds)
    if opts.only == "pool":
        lines, checks, figs = pool_part(torchshape_env(), opts.rounds)
        print("| figure | value | target | result |\n|---|---|---|---|")
        for name, value, _, target, met in checks:
            print(f"| {name} | {value} | {target} | {'pass' if met else 'FAIL'} |")
        print()
        for f in figs:
            print(f"| `{f.label}` | {f.median_s:.3f} s | {f.rss_mb:.0f} MB | {'; '.join(f.failures)} |")
        print()
        print("\n".join(lines))
        return 0 if all(met for *_, met in checks) and not any(f.failures for f in figs) else 1

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
        convs = conv_figures(env)
        print(
            f"measuring {len(fig) + len(huge) + len(convs)} commands, {opts.rounds} rounds each",
            file=sys.stderr,
        )
        run_rounds([*fig.values(), *huge, *convs], opts.rounds)
        print(f"measuring {len(fig) + len(huge)} commands, {opts.rounds} rounds each", file=sys.stderr)
        run_rounds([*fig.values(), *huge], opts.rounds)
    print("torchshape pool on meta", file=sys.stderr)
    pool_lines, pool_checks, pool_figs = pool_part(env, opts.rounds)
    help_imports_torch = torch_imported_by_help(env)
    print("sweep (in-process)", file=sys.stderr)
    sweep = worker_json(env, "sweep")
    print("CUDA", file=sys.stderr)
    cuda_lines, cuda_ok = cuda_section(env)

    failures = [f"{f.label}: {msg}" for f in [*fig.values(), *huge, *convs] for msg in f.failures]
    failures = [f"{f.label}: {msg}" for f in [*fig.values(), *huge, *pool_figs] for msg in f.failures]
    checks: list[tuple[str, str, str, str, bool]] = []  # (figure, value, beside GC-paused, target, met)

    def ratio_check(name: str, a: Figure, b: Figure, target: float, what: str = "time") -> None:
        value = a.median_s / b.median_s if what == "time" else a.rss_mb / b.rss_mb
        paused = ""
        if b is fig["torch"] and what == "time":
            paused = f"{a.median_s / fig['torch_nogc'].median_s:.2f}×"
        checks.append((name, f"{value:.2f}×", paused, f"≤ {target}×", value <= target))

    ratio_check("`torchshape --help` / one-command Typer app `--help`", fig["help"], fig["typer"], 1.2)
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
    checks += conv_checks(fig["torch"], convs)
    floor_ms = fig["torch"].median_s * 1000
    for label, points in sweep.items():
        times = [ms for _, ms in points]
        spread = max(times) - min(times)
        name = f"sweep of {label}: slowest − fastest point"
        limit = SWEEP_SPREAD * floor_ms
        target = f"≤ {limit:.0f} ms (5 % of `import torch`)"
        checks.append((name, f"{spread:.1f} ms", "", target, spread <= limit))
    checks += pool_checks
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
            for f in [*fig.values(), *huge, *convs]
            for f in [*fig.values(), *huge, *pool_figs]
        ),
        "",
        "## Constant in the sizes",
        "",
        "On `--device meta` torchshape runs the module on the CPU at small probe sizes whatever the sizes "
        'asked for (see [docs/rnn.md, "How shapes are verified"](docs/rnn.md#how-shapes-are-verified)), '
        "so its time does not depend on them. "
        f"Below: `torchshape.inspect(...)` in one process after torch is imported, best of {SWEEP_REPEATS}, "
        "one dimension varied at a time, the others as in the LSTM above (4096, 8 layers, bidirectional, "
        "batch 64, seq-len 1000).",
        "",
        "| varied | value → ms |",
        "|---|---|",
        *(
            f"| {label} | {', '.join(f'{v:,} → {ms:.1f}' for v, ms in points)} |"
            for label, points in sweep.items()
        ),
        "",
        *pool_lines,
        *cuda_lines,
    ]
    if failures:
        md += ["## Failed commands", "", *(f"- {line}" for line in failures), ""]
    opts.output.write_text("\n".join(md))
    print(f"wrote {opts.output}: {'every target met' if all_ok else 'targets missed'}", file=sys.stderr)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
