"""torchshape model on six real models, beside torchinfo and ptflops: time, peak memory and MACs,
against PyTorch's FlopCounterMode on meta (FLOPs / 2) as the reference.

    python benchmarks/run_real.py [--peers VENV_PYTHON] [--rounds N]

The models are ``benchmarks/real_models.py`` (torchvision's and transformers' layer structure,
written with torch alone). torchshape runs in this python; torchinfo 1.8.0 and ptflops 0.7.5 run
in ``--peers`` (a virtual environment of their own beside the same torch), each in a fresh
process per measurement: wall time of the whole process, and its peak resident memory. It
prints the Markdown part that BENCHMARKS.md holds under "Real models". "plain" is the floor:
the same process (``import torch``, the model built, its forward under ``no_grad``) without
any tool, in this python.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import real_models  # noqa: E402

PEER = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
import torch
sys.path.insert(0, {root!r})
from benchmarks import real_models
name, tool = {name!r}, {tool!r}
torch.manual_seed(0)
model = getattr(real_models, name)().eval()
shape, dtype = {shape!r}, {dtype!r}
if dtype == "int64":
    x = torch.randint(0, 1000, shape)
else:
    x = torch.randn(shape)
if tool == "plain":  # the floor: the model's own forward under no_grad, nothing beside it
    with torch.no_grad():
        model(x)
    macs = 0
elif tool == "torchinfo":
    import torchinfo
    s = torchinfo.summary(model, input_data=[x], depth=10, verbose=0)
    macs = s.total_mult_adds
else:
    from ptflops import get_model_complexity_info
    import inspect
    first = list(inspect.signature(model.forward).parameters)[0]
    macs, _ = get_model_complexity_info(
        model, tuple(shape), input_constructor=lambda _: {{first: x}},
        as_strings=False, print_per_layer_stat=False, verbose=False,
    )
print(json.dumps({{"macs": int(macs)}}))
"""


def reference_macs(name: str) -> int:
    """FlopCounterMode on meta, halved: every kernel breaks down into ones it counts there."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    (flag,) = real_models.INPUTS[name]
    shape, dtype = _parse(flag)
    with torch.device("meta"):
        model = getattr(real_models, name)().eval()
        x = torch.zeros(shape, dtype=getattr(torch, dtype))
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    return int(counter.get_total_flops()) // 2


def _parse(flag: str) -> tuple[tuple[int, ...], str]:
    shape, _, dtype = flag.partition(":")
    return tuple(int(d) for d in shape.split(",")), dtype or "float32"


def run_measured(argv: list[str]) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds (user and system: steadier than wall time on a shared machine),
    peak resident MB (the child's ru_maxrss, its own children's included) and stdout."""
    read, write = os.pipe()
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        os.dup2(write, 1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.chdir(ROOT)
        os.execv(argv[0], argv)
    os.close(write)
    chunks = []
    while True:
        chunk = os.read(read, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv[:5])}: exit {os.waitstatus_to_exitcode(status)}")
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, usage.ru_maxrss / 1024, b"".join(chunks).decode()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--peers",
        default=os.environ.get("PEERS_PYTHON", "python3"),
        help="a Python with torchinfo and ptflops installed beside the same torch (env PEERS_PYTHON)",
    )
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--only", default="")
    options = parser.parse_args()
    names = [n for n in real_models.PARAMS if not options.only or n in options.only.split(",")]
    rows = []
    for name in names:
        (flag,) = real_models.INPUTS[name]
        shape, dtype = _parse(flag)
        reference = reference_macs(name)
        figures: dict[str, tuple[float, float, float, int | None]] = {}
        shape_argv = [sys.executable, "-m", "torchshape", "model", f"benchmarks/real_models.py:{name}"]
        shape_argv += ["--input", flag, "--format", "json"]
        for tool in ("torchshape", "torchinfo", "ptflops", "plain"):
            if tool == "torchshape":
                argv = shape_argv
            elif tool == "plain":
                code = PEER.format(root=str(ROOT), name=name, tool=tool, shape=shape, dtype=dtype)
                argv = [sys.executable, "-c", code]
            else:
                code = PEER.format(root=str(ROOT), name=name, tool=tool, shape=shape, dtype=dtype)
                argv = [options.peers, "-c", code]
            times, cpus, peaks, macs = [], [], [], None
            for _ in range(options.rounds):
                seconds, cpu, peak, out = run_measured(argv)
                times.append(seconds)
                cpus.append(cpu)
                peaks.append(peak)
                data = json.loads(out if tool == "torchshape" else out.strip().splitlines()[-1])
                macs = data["totals"]["macs"] if tool == "torchshape" else data["macs"]
                if tool == "torchshape":
                    figures["torchshape memory"] = (
                        data["memory"]["estimate_bytes"] / 2**20,
                        (data["memory"]["measured_peak_bytes"] or 0) / 2**20,
                        0.0,
                        None,
                    )
            figures[tool] = (statistics.median(times), statistics.median(cpus), max(peaks), macs)
            print(name, tool, figures[tool], file=sys.stderr)
        rows.append((name, reference, figures))
    print("| model | FlopCounterMode on meta (G MACs) | torchshape | torchinfo | ptflops |")
    print("|---|---|---|---|---|")
    for name, reference, figures in rows:
        cells = []
        for tool in ("torchshape", "torchinfo", "ptflops"):
            macs = figures[tool][3]
            off = 100 * ((macs or 0) - reference) / reference
            cells.append(f"{(macs or 0) / 1e9:.3f} ({off:+.1f} %)")
        print(f"| {name} | {reference / 1e9:.3f} | " + " | ".join(cells) + " |")
    print()
    print(
        "| model | torchshape s (CPU s) | torchinfo s (CPU s) | ptflops s (CPU s) | torchshape MB "
        "| torchinfo MB | ptflops MB | plain forward MB | torchshape ÷ torchinfo | torchshape estimate MB "
        "| measured by torchshape MB | measured ÷ estimate |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, _, figures in rows:
        t = [figures[tool] for tool in ("torchshape", "torchinfo", "ptflops")]
        estimate, measured, _, _ = figures["torchshape memory"]
        times = " | ".join(f"{wall:.1f} ({cpu:.1f})" for wall, cpu, _, _ in t)
        print(
            f"| {name} | {times} | {t[0][2]:.0f} | {t[1][2]:.0f} | {t[2][2]:.0f} | {figures['plain'][2]:.0f} "
            f"| {t[0][2] / t[1][2]:.2f} | {estimate:.0f} | {measured:.0f} | {measured / estimate:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
