"""Every command in every format, and each run again: the Markdown's "Reproduce with" line gives
the same output byte for byte, and the script that --format python writes runs and passes every
check of the run."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tests.conftest import reproduced, run_cli, script_passes

FORMATS = ["table", "markdown", "json", "csv", "svg", "python"]
# with --params, in every format: exit 0, output, nothing on stderr
IN_EVERY_FORMAT = [
    "conv",
    "conv --transposed --dims 1 --size 10",
    "conv --dims 3 --unbatched --device meta",
    "attention",
    "attention --per-head-weights --key-padding-mask --add-bias-kv --add-zero-attn",
    "attention --self --batch-first --causal --no-need-weights --attn-mask 3d",
    "attention --kdim 10 --vdim 6 --unbatched --attn-mask 3d --mask-dtype float --no-bias --device meta",
    "transformer",
    "transformer --layer decoder --causal --tgt-key-padding-mask float --memory-mask 3d --batch-first",
    "transformer --layer full --device meta --src-mask 2d --memory-key-padding-mask bool --norm-first",
]

CONV = [
    "conv",
    "conv --dims 1 --size 100 --kernel-size 4 --padding same --stride 1 --explain",
    "conv --transposed --stride 3 --output-padding 2 --groups 2 --in-channels 4 --no-bias --params",
    "conv --dims 3 --size 5,6,7 --kernel-size 1,2,3 --dilation 2 --padding valid --unbatched --device meta",
    "conv --padding-mode circular --padding 2,1 --batch 2 --dtype float64",
]
ATTENTION = [
    "attention",
    "attention --self --batch-first --causal --no-need-weights",
    "attention --kdim 10 --vdim 6 --attn-mask 3d --mask-dtype float --per-head-weights --add-zero-attn",
    "attention --unbatched --key-padding-mask --add-bias-kv --dropout 0.1 --dtype float64 --device meta",
    "attention --embed-dim 8 --heads 2 --target-len 3 --source-len 4 --batch 2 --no-bias --causal "
    "--attn-mask 3d",
]
TRANSFORMER = [
    "transformer",
    "transformer --layer decoder --causal --memory-key-padding-mask bool --explain",
    "transformer --layer full --num-encoder-layers 3 --num-decoder-layers 1 --batch-first --tgt-mask 3d "
    "--params",
    "transformer --layer full --device meta --causal --tgt-mask 3d --src-key-padding-mask float --norm-first",
    "transformer --d-model 20 --nhead 5 --source-len 3 --batch 2 --src-mask 3d --dtype float64",
]
REPRODUCED = [*CONV, *ATTENTION, "attention --self --causal --diagram", *TRANSFORMER]
# the script checks shapes, not the relations --explain shows
SCRIPTS = [
    *(f"{line} --params" for line in [*CONV, *ATTENTION]),
    *(f"{line.replace('--explain', '')} --params" for line in TRANSFORMER),
    "embedding --format python",
    "embedding --shape '()' --padding-idx 3 --format python",
    "embedding --shape 2,3,4,5 --max-norm 1.5 --dtype float64 --format python",
    "embedding --bag --mode max --bags 2 --bag-size 3 --format python",
    "embedding --bag --mode sum --offsets 0,3,3 --per-sample-weights --padding-idx 1 --format python",
    "embedding --bag --offsets 0,2,5 --include-last-offset --format python",
    "embedding --num-embeddings 128256 --embedding-dim 4096 --shape 1,131072 --device meta --format python",
    "embedding --bag --mode sum --offsets 0,1000000 --shape 2000000000 --per-sample-weights --device meta "
    "--format python",
    "pool --return-indices --size 9,8 --kernel-size 2 --padding 1 --ceil-mode --format python",
    "pool --kind adaptive-max --dims 3 --return-indices --unbatched --format python",
    "pool --kind lp --dims 1 --norm-type 3 --stride 2 --format python",
    "pool --kind avg --size 100000,90000 --channels 64 --device meta --format python",
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("line", IN_EVERY_FORMAT)
def test_every_format(line: str, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, *shlex.split(line), "--params", "--format", fmt)
    assert (code, err) == (0, "")
    assert out


@pytest.mark.parametrize("line", REPRODUCED)
def test_the_reproduce_line_gives_the_same_output(line: str, capsys: pytest.CaptureFixture[str]) -> None:
    command, _, args = line.partition(" ")
    reproduced(capsys, command, args)


@pytest.mark.parametrize("line", SCRIPTS)
def test_the_python_script_runs_and_checks_every_shape(
    line: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    command, _, args = line.partition(" ")
    script_passes(capsys, tmp_path / "check.py", command, args)


# each family's Python call with every run switch it takes, at small sizes
ASKED = {
    "rnn": ("inspect", {"kind": "gru", "explain": True, "unroll": True, "diagram": True}),
    "conv": ("inspect_conv", {"size": 8, "explain": True, "diagram": True}),
    "pool": ("inspect_pool", {"size": 8, "explain": True, "diagram": True}),
    "attention": ("inspect_attention", {"explain": True, "diagram": True}),
    "embedding": ("inspect_embedding", {"explain": True}),
    "transformer": ("inspect_transformer", {"explain": True}),
    "norm": ("inspect_norm", {"explain": True}),
}


@pytest.mark.parametrize("family", sorted(ASKED))
def test_reproduce_with_asks_for_what_the_run_was_asked_not_what_it_found(family: str) -> None:
    """The line is written from the request the report carries: a report whose probe lost its
    analysis and drawing still asks for --explain and --diagram, and one that was not asked for
    them asks for neither, whatever its probe holds."""
    from dataclasses import replace

    import torchshape
    from torchshape.options import Format, Shown
    from torchshape.render.shown import reproduce

    name, settings = ASKED[family]
    report = getattr(torchshape, name)(**settings)
    asked = {flag for flag in ("--explain", "--unroll", "--diagram") if settings.get(flag[2:])}
    line = reproduce(report, Format.MARKDOWN, Shown())
    assert asked <= set(shlex.split(line)), line
    bare = replace(report, probe=replace(report.probe, analysis=None, diagram=None))
    assert reproduce(bare, Format.MARKDOWN, Shown()) == line
    unasked = replace(report, switches={})
    words = set(shlex.split(reproduce(unasked, Format.MARKDOWN, Shown())))
    assert not words & asked
