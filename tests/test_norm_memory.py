"""The guard's peak estimate for torchshape norm is within 1.5× of the peak resident memory a run
really adds (the forward pass and the statistics check), measured in a fresh process per case
(Linux: /proc/self/status VmHWM, reset with /proc/self/clear_refs). Inputs of 128 MiB."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from tests.measure import run_measure

MEASURE = r"""
import json, os, sys
from torchshape import families
from torchshape.api import run_spec

settings, explain = json.loads(sys.argv[1]), sys.argv[2] == "1"
family = families.family("norm")
small = {k: v for k, v in settings.items() if k not in ("size", "batch", "normalized_shape")}
run_spec(family.make_spec(**small), explain=explain)  # libraries loaded, pools warm

def resident():
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

before = resident()
with open("/proc/self/clear_refs", "w") as handle:
    handle.write("5")
spec = family.make_spec(**settings)
report = run_spec(spec, explain=explain)
assert report.ok, report
with open("/proc/self/status") as handle:
    peak = next(int(line.split()[1]) * 1024 for line in handle if line.startswith("VmHWM"))
print(json.dumps({"grew": peak - before, "estimate": family.peak_bytes(spec)}))
"""

MIB128 = 32 * 2**20  # float32 values in 128 MiB
CASES: list[dict[str, Any]] = [
    {"kind": "batch", "num_features": 8, "size": [1024, 1024], "batch": 4},
    {"kind": "batch", "num_features": 8, "size": [1024, 1024], "batch": 4, "train": False},
    {"kind": "instance", "num_features": 8, "size": [1024, 1024], "batch": 4},
    {"kind": "group", "num_groups": 4, "num_features": 8, "size": [1024, 1024], "batch": 4},
    {"kind": "layer", "normalized_shape": [1024], "size": [8192], "batch": 4},
    {"kind": "rms", "normalized_shape": [1024], "size": [8192], "batch": 4},
    {"kind": "layer", "normalized_shape": [1024], "size": [8192], "batch": 4, "dtype": "bfloat16"},
]


def measured(settings: dict[str, Any], explain: bool = False) -> tuple[int, int]:
    return run_measure(MEASURE, json.dumps(settings), "1" if explain else "0")


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs /proc/self/clear_refs")
@pytest.mark.parametrize("settings", CASES, ids=[f"{c['kind']}-{i}" for i, c in enumerate(CASES)])
def test_the_estimate_is_within_one_and_a_half_times_the_peak(settings: dict[str, Any]) -> None:
    grew, estimate = measured(settings, explain=True)
    assert grew > 100 * 2**20, grew
    assert grew / 1.5 <= estimate <= grew * 1.5, (settings, grew, estimate, estimate / grew)
