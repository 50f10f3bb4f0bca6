"""What torchshape reads of the processor for its memory estimates, from /proc/cpuinfo: the
feature flags (oneDNN's AVX-512 kernels and bfloat16 path) and torch's default thread count."""

from __future__ import annotations

import platform
from collections.abc import Iterator
from pathlib import Path

import pytest

from torchshape import processor

CPUINFO = """processor\t: 0
physical id\t: 0
core id\t\t: 0
flags\t\t: fpu sse avx2 {extra}

processor\t: 1
physical id\t: 0
core id\t\t: 0
flags\t\t: fpu sse avx2 {extra}

processor\t: 2
physical id\t: 0
core id\t\t: 1
flags\t\t: fpu sse avx2 {extra}
"""


@pytest.fixture
def cpuinfo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "cpuinfo"
    monkeypatch.setattr(processor, "CPUINFO", path)
    monkeypatch.setattr(platform, "machine", lambda: "x86_64")
    for name in ("MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    processor.cpu_flags.cache_clear()
    processor.physical_cores.cache_clear()
    yield path
    processor.cpu_flags.cache_clear()
    processor.physical_cores.cache_clear()


def test_avx512_means_onednn_bfloat16_and_blocks_of_16(cpuinfo: Path) -> None:
    cpuinfo.write_text(CPUINFO.format(extra="avx512f avx512bw avx512vl avx512dq"))
    assert processor.avx512_core() is True
    assert processor.onednn_bfloat16() is True
    assert processor.onednn_channel_block() == 16


def test_avx2_alone_leaves_bfloat16_unknown_and_blocks_of_8(cpuinfo: Path) -> None:
    cpuinfo.write_text(CPUINFO.format(extra="avx512f"))  # AVX-512 F without BW, VL, DQ
    assert processor.avx512_core() is False
    assert processor.onednn_bfloat16() is None
    assert processor.onednn_channel_block() == 8


def test_no_cpuinfo_is_not_known(cpuinfo: Path) -> None:
    assert processor.cpu_flags() is None
    assert processor.avx512_core() is None
    assert processor.onednn_channel_block() == 16  # the larger, where not known


def test_threads_come_from_the_environment_then_the_physical_cores(
    cpuinfo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cpuinfo.write_text(CPUINFO.format(extra=""))
    monkeypatch.setattr("os.cpu_count", lambda: 3)
    assert processor.torch_threads() == 2  # three processors on two cores
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert processor.torch_threads() == 1
    monkeypatch.setenv("MKL_NUM_THREADS", "4")  # torch reads it last: it wins
    assert processor.torch_threads() == 4
