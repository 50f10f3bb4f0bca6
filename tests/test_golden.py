"""Expected-output files for every format, the docs' marked examples and the CLI reference
(docs/cli.md, ``--help`` of every command), compared exactly.

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

from tests.textmatch import same_text
from torchshape import processor
from torchshape.cli import main
from torchshape.options import OUTPUT_SUFFIXES, Format

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
README = ROOT / "README.md"
DOCS = ROOT / "docs"
CLI_PAGE = DOCS / "cli.md"
DOC_TORCH_VERSION = "2.13.0+cpu"
CHECKOUT = "/checkout"  # where the goldens say the repository lies

# name -> the arguments after `torchshape`
CONFIGS = {
    "lstm_layers2_bidir": "rnn --kind lstm --layers 2 --bidir",
    "gru_batch_first_dropout": "rnn --kind gru --batch-first --layers 3 --dropout 0.25 --no-bias",
    "lstm_proj_unbatched_meta": "rnn --kind lstm --proj-size 8 --unbatched --seq-len 1000 --device meta",
    "conv_transposed_stride2": "conv --transposed --stride 2 --output-padding 1 --groups 2 --in-channels 4",
    "conv3d_dilated_meta": "conv --dims 3 --size 16,64,48 --kernel-size 3,5,5 --dilation 1,2,2 --batch 64 "
    "--in-channels 256 --out-channels 512 --device meta",
    "pool_max_ceil_drop": "pool --size 8,7 --kernel-size 2 --padding 1 --ceil-mode --return-indices",
    "pool_adaptive_avg_meta": "pool --kind adaptive-avg --size 1000,999 --output-size 7,5 --batch 64 "
    "--channels 512 --device meta",
    "attention_per_head_bias_kv": "attention --per-head-weights --key-padding-mask --add-bias-kv "
    "--add-zero-attn",
    "attention_self_causal_meta": "attention --self --batch-first --causal --no-need-weights "
    "--target-len 131072 --embed-dim 8192 --heads 64 --batch 1 --device meta",
    "embedding_padding_max_norm": "embedding --shape 2,3,5 --padding-idx 0 --max-norm 2",
    "embedding_bag_offsets": "embedding --bag --mode sum --offsets 0,2,2,5 --include-last-offset "
    "--per-sample-weights",
    "embedding_128k_context_meta": "embedding --num-embeddings 128256 --embedding-dim 4096 "
    "--shape 1,131072 --device meta",
    "transformer_encoder_masks": "transformer --src-mask 3d --src-key-padding-mask bool --norm-first",
    "transformer_decoder_causal": "transformer --layer decoder --causal --memory-mask 2d "
    "--memory-key-padding-mask float --batch-first",
    "transformer_full_meta": "transformer --layer full --num-encoder-layers 6 --num-decoder-layers 6 "
    "--d-model 1024 --nhead 16 --dim-feedforward 4096 --source-len 100000 --target-len 50000 --batch 64 "
    "--causal --src-key-padding-mask bool --device meta",
    "norm_batch_1d_eval": "norm --kind batch --dims 1 --num-features 4 --size 5 --eval",
    "norm_group_eval": "norm --kind group --num-groups 2 --num-features 8 --size 10 --eval --no-affine",
    "norm_layer_llm_meta": "norm --kind layer --normalized-shape 8192 --size 131072 --batch 8 --device meta",
    "model_seq2seq": "model tests.models.seq2seq:Seq2Seq --input 4,10:int64 --input 4,7:int64",
    "model_crnn_depth1": "model tests.models.crnn:CRNN --input 2,1,32,20 --depth 1 --params",
    "expr_gru_inputs_meta": "expr 'torch.cat(inputs).view(len(inputs), 1, -1)' --tensor 'inputs=[1,3]*5'",
    "expr_mask_index_cpu": "expr 'a[idx, :, m].sum(dim=0, keepdim=True)' --tensor a=2,3,4 "
    "--tensor idx=1:int64 --tensor m=4:bool",
    "expr_promotion": "expr 'x @ w.T / 2 + (k // 2)' --tensor x=4,3:float16 --tensor w=5,3:float16 "
    "--tensor k=5:int64",
}
# torchshape model refuses --format python in this step (tests/test_model.py checks the refusal).


@pytest.fixture(autouse=True)
def one_processor(monkeypatch: pytest.MonkeyPatch) -> None:
    """The memory estimates follow the kernels torch picks for the processor (oneDNN's layouts,
    its thread rule): the documents show them for x86 with AVX-512 and two threads, wherever
    they are checked."""
    monkeypatch.setattr(processor, "cpu_flags", lambda: processor.AVX512_CORE | {"avx2"})
    monkeypatch.setattr(processor, "torch_threads", lambda: 2)


REFUSED = {(name, Format.PYTHON) for name in CONFIGS if name.startswith("model_")}
SUFFIX = {fmt: suffix for suffix, fmt in reversed(OUTPUT_SUFFIXES.items())}  # .md over .markdown


def produce(args: str, path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the command line with ``--output FILE`` in FILE's folder (the extension picks the
    format), as users do: the "Reproduce with" line names the file as they typed it."""
    monkeypatch.setattr(torch, "__version__", DOC_TORCH_VERSION)
    monkeypatch.chdir(path.parent)
    code = main([*shlex.split(args), "--output", path.name])
    assert code == 0
    # the model's source lines are named by path: outside the current folder, an absolute one
    return path.read_text(encoding="utf-8").replace(str(ROOT), CHECKOUT)


def printed(args: str, monkeypatch: pytest.MonkeyPatch, exit_code: int = 0) -> str:
    """What ``torchshape ARGS`` prints through a pipe (no COLUMNS: 80 columns, or wider for code),
    and its line on stderr where it exits ``exit_code`` other than 0."""
    monkeypatch.setattr(torch, "__version__", DOC_TORCH_VERSION)
    monkeypatch.delenv("COLUMNS", raising=False)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(shlex.split(args))
    assert code == exit_code, err.getvalue()
    assert (err.getvalue() == "") is (exit_code == 0), err.getvalue()
    return out.getvalue() + err.getvalue()


@pytest.mark.parametrize("fmt", list(Format), ids=[f.value for f in Format])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_golden_output(
    name: str, fmt: Format, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, regen_golden: bool
) -> None:
    if (name, fmt) in REFUSED:
        pytest.skip("refused: torchshape model --format python comes in a later step")
    expected_file = GOLDEN / f"{name}{SUFFIX[fmt]}"
    actual = produce(CONFIGS[name], tmp_path / expected_file.name, monkeypatch)
    assert "\x1b" not in actual
    if regen_golden:
        GOLDEN.mkdir(exist_ok=True)
        expected_file.write_text(actual, encoding="utf-8", newline="")
    assert expected_file.exists(), f"{expected_file} is missing; run pytest with --regen-golden"
    expected = expected_file.read_text(encoding="utf-8")
    # a figure torch computes (a max |difference|) may differ in its last bits on another torch
    assert actual == expected or same_text(actual, expected), (
        f"{expected_file.name} differs from the tool's output; run pytest with --regen-golden"
    )


# <!-- torchshape-example: ARGS --> ```console ... ``` <!-- /torchshape-example -->; a command
# that exits 1 (a broken model's diagnosis) is marked <!-- torchshape-example exit=1: ARGS -->
# and its block ends with its line on stderr.
EXAMPLE = re.compile(
    r"(<!-- torchshape-example(?: exit=(\d))?: (.+?) -->\n)(.*?)(<!-- /torchshape-example -->)", re.DOTALL
)


def example_block(args: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exit_code: int = 0) -> str:
    """The console block for ``torchshape ARGS``: the table as an 80-column terminal shows it."""
    lines = printed(args, monkeypatch, exit_code).splitlines()
    return "```console\n" + f"$ torchshape {args}\n" + "\n".join(lines) + "\n```\n"


def documents() -> list[Path]:
    """The README and every page under docs/: where checked examples may live."""
    return [README, *sorted(DOCS.glob("*.md"))]


def test_the_readme_has_an_example() -> None:
    assert EXAMPLE.search(README.read_text(encoding="utf-8")), (
        "README.md has no <!-- torchshape-example: ... --> block"
    )


@pytest.mark.parametrize("doc", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_doc_examples_are_the_tools_output(
    doc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, regen_golden: bool
) -> None:
    text = doc.read_text(encoding="utf-8")
    if regen_golden:
        new = EXAMPLE.sub(
            lambda m: m[1] + example_block(m[3], tmp_path, monkeypatch, int(m[2] or 0)) + m[5], text
        )
        if new != text:
            doc.write_text(new, encoding="utf-8", newline="")
        text = new
    for block in EXAMPLE.finditer(text):
        shown = example_block(block[3], tmp_path, monkeypatch, int(block[2] or 0))
        assert same_text(shown, block[4]), (
            f"{doc.relative_to(ROOT)}: example `torchshape {block[3]}` differs from the tool's "
            "output; run pytest with --regen-golden"
        )


# --- docs/cli.md: `--help` of every registered command ------------------------------------

HELP_COLUMNS = 100
# <!-- torchshape-help: NAME --> ... <!-- /torchshape-help -->; NAME is a command, or
# `torchshape` for the top level
HELP = re.compile(r"<!-- torchshape-help: (\S+) -->\n(.*?)<!-- /torchshape-help -->", re.DOTALL)


def registered_commands() -> list[str]:
    """Every command on the typer app, in the order ``torchshape --help`` lists them."""
    import typer

    from torchshape.cli import app

    group = typer.main.get_command(app)
    return list(getattr(group, "commands", {}))


def help_text(args: list[str], monkeypatch: pytest.MonkeyPatch) -> str:
    """``torchshape ARGS --help`` through a pipe at HELP_COLUMNS columns: plain text, no colour."""
    monkeypatch.setenv("COLUMNS", str(HELP_COLUMNS))
    for name in ("NO_COLOR", "FORCE_COLOR", "PY_COLORS", "TERM", "LINES", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)
    # typer reads GITHUB_ACTIONS, FORCE_COLOR and TERMINAL_WIDTH once, at import
    monkeypatch.setattr("typer.rich_utils.FORCE_TERMINAL", None)
    monkeypatch.setattr("typer.rich_utils.MAX_WIDTH", None)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([*args, "--help"]) == 0
    text = out.getvalue().strip("\n")
    assert "\x1b" not in text
    return text


def help_section(name: str, args: list[str], monkeypatch: pytest.MonkeyPatch) -> str:
    command = " ".join(["torchshape", *args, "--help"])
    return (
        f"<!-- torchshape-help: {name} -->\n"
        f"```text\n$ COLUMNS={HELP_COLUMNS} {command}\n{help_text(args, monkeypatch)}\n```\n"
        "<!-- /torchshape-help -->"
    )


def cli_page(monkeypatch: pytest.MonkeyPatch) -> str:
    """docs/cli.md as the registered commands' ``--help`` gives it."""
    commands = registered_commands()
    parts = [
        "# Command-line reference",
        "",
        "The `--help` of `torchshape` and of every command, as printed through a pipe at "
        f"{HELP_COLUMNS} columns.",
        "This page is generated: `python -m pytest tests/test_golden.py --regen-golden` rewrites it",
        "from the commands registered on the app, and `tests/test_golden.py` fails when it drifts",
        "or when a command has no section here. Do not edit it by hand.",
        "",
        "- [`torchshape`](#torchshape)",
    ]
    for name in commands:
        page = f" (guide: [{name}.md]({name}.md))" if (DOCS / f"{name}.md").exists() else ""
        parts.append(f"- [`torchshape {name}`](#torchshape-{name}){page}")
    parts += ["", "## `torchshape`", "", help_section("torchshape", [], monkeypatch)]
    for name in commands:
        parts += ["", f"## `torchshape {name}`", "", help_section(name, [name], monkeypatch)]
    return "\n".join(parts) + "\n"


def test_cli_reference_is_the_help(monkeypatch: pytest.MonkeyPatch, regen_golden: bool) -> None:
    expected = cli_page(monkeypatch)
    if regen_golden:
        CLI_PAGE.write_text(expected, encoding="utf-8", newline="")
    assert CLI_PAGE.exists(), f"{CLI_PAGE} is missing; run pytest with --regen-golden"
    assert CLI_PAGE.read_text(encoding="utf-8") == expected, (
        "docs/cli.md differs from --help; run pytest tests/test_golden.py --regen-golden"
    )


def test_every_command_has_a_section_in_the_cli_reference() -> None:
    commands = registered_commands()
    assert "rnn" in commands
    sections = {m[1] for m in HELP.finditer(CLI_PAGE.read_text(encoding="utf-8"))}
    missing = {"torchshape", *commands} - sections
    assert not missing, f"docs/cli.md has no --help section for {sorted(missing)}; run --regen-golden"


def test_the_cli_reference_has_no_trailing_spaces() -> None:
    lines = CLI_PAGE.read_text(encoding="utf-8").splitlines()
    assert [n for n, line in enumerate(lines, 1) if line != line.rstrip()] == []


def test_a_command_registered_later_gets_its_section(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page is built from the app's commands, so a new command appears without edits here."""
    import typer

    from torchshape.cli import app

    def stand_in() -> None:
        """A command registered after rnn."""

    info = typer.models.CommandInfo(name="stand-in", callback=stand_in)
    monkeypatch.setattr(app, "registered_commands", [*app.registered_commands, info])
    assert registered_commands()[-1] == "stand-in"
    page = cli_page(monkeypatch)
    assert "## `torchshape stand-in`\n\n<!-- torchshape-help: stand-in -->\n" in page
    assert "$ COLUMNS=100 torchshape stand-in --help\n Usage: torchshape stand-in [OPTIONS]" in page
    assert "- [`torchshape stand-in`](#torchshape-stand-in)\n" in page
