"""Expected-output files for every format, and the README's example, compared exactly.

`python -m pytest tests/test_golden.py --regen-golden` rewrites them from the current
code; review the diff before committing it. The output names the torch version that
ran; these tests pin it to ``DOC_TORCH_VERSION`` so the files hold on any torch.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest
import torch

from torchshape.cli import main
from torchshape.options import OUTPUT_SUFFIXES, Format

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
README = ROOT / "README.md"
DOC_TORCH_VERSION = "2.13.0+cpu"

# name -> the arguments after `torchshape`
CONFIGS = {
    "lstm_layers2_bidir": "rnn --kind lstm --layers 2 --bidir",
    "gru_batch_first_dropout": "rnn --kind gru --batch-first --layers 3 --dropout 0.25 --no-bias",
    "lstm_proj_unbatched_meta": "rnn --kind lstm --proj-size 8 --unbatched --seq-len 1000 --device meta",
}
SUFFIX = {fmt: suffix for suffix, fmt in reversed(OUTPUT_SUFFIXES.items())}  # .md over .markdown


def produce(args: str, path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the command line with ``--output FILE`` in FILE's folder (the extension picks the
    format), as users do: the "Reproduce with" line names the file as they typed it."""
    monkeypatch.setattr(torch, "__version__", DOC_TORCH_VERSION)
    monkeypatch.chdir(path.parent)
    code = main([*shlex.split(args), "--output", path.name])
    assert code == 0
    return path.read_text(encoding="utf-8")


def printed(args: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """What ``torchshape ARGS`` prints through a pipe (no COLUMNS: 80 columns, or wider for code)."""
    monkeypatch.setattr(torch, "__version__", DOC_TORCH_VERSION)
    monkeypatch.delenv("COLUMNS", raising=False)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(shlex.split(args)) == 0
    return out.getvalue()


@pytest.mark.parametrize("fmt", list(Format), ids=[f.value for f in Format])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_golden_output(
    name: str, fmt: Format, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, regen_golden: bool
) -> None:
    expected_file = GOLDEN / f"{name}{SUFFIX[fmt]}"
    actual = produce(CONFIGS[name], tmp_path / expected_file.name, monkeypatch)
    assert "\x1b" not in actual
    if regen_golden:
        GOLDEN.mkdir(exist_ok=True)
        expected_file.write_text(actual, encoding="utf-8", newline="")
    assert expected_file.exists(), f"{expected_file} is missing; run pytest with --regen-golden"
    assert actual == expected_file.read_text(encoding="utf-8")


# <!-- torchshape-example: ARGS --> ```console ... ``` <!-- /torchshape-example -->
EXAMPLE = re.compile(r"(<!-- torchshape-example: (.+?) -->\n)(.*?)(<!-- /torchshape-example -->)", re.DOTALL)


def example_block(args: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The console block for ``torchshape ARGS``: the table as an 80-column terminal shows it."""
    lines = printed(args, monkeypatch).splitlines()
    return "```console\n" + f"$ torchshape {args}\n" + "\n".join(lines) + "\n```\n"


def test_readme_example_is_the_tools_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, regen_golden: bool
) -> None:
    readme = README.read_text(encoding="utf-8")
    blocks = list(EXAMPLE.finditer(readme))
    assert blocks, "README.md has no <!-- torchshape-example: ... --> block"
    if regen_golden:
        readme = EXAMPLE.sub(
            lambda m: m[1] + example_block(m[2], tmp_path, monkeypatch) + m[4],
            readme,
        )
        README.write_text(readme, encoding="utf-8", newline="")
        blocks = list(EXAMPLE.finditer(readme))
    for block in blocks:
        assert block[3] == example_block(block[2], tmp_path, monkeypatch), (
            f"README example `torchshape {block[2]}` differs from the tool's output; "
            "run pytest with --regen-golden"
        )
