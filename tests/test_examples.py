"""The scripts in examples/ run as documented."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_api_example_runs() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "FORCE_COLOR")}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "api_example.py")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "h_n     (D·num_layers, N, H_out)   (4, 16, 256)" in result.stdout
    assert "decoder initial state: (N, D·H_out) = (16, 512)" in result.stdout
    assert "| output | (N, L, D·H_out) | (16, 40, 512) | (16, 40, 512) | ✓ |" in result.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_docs_tables_script_is_valid_bash() -> None:
    # Running it takes a forward pass per configuration (seconds each); check the syntax here.
    result = subprocess.run(["bash", "-n", str(EXAMPLES / "docs_tables.sh")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
