"""Every command's bad command lines and help: a bad command line exits 2 with one line on stderr
that names the flag and nothing on stdout, before torch runs; one this machine cannot run exits 1
with one line; --help imports no torch; the examples under --help run."""

from __future__ import annotations

import importlib
import shlex

import pytest

from tests.conftest import (
    help_without_torch,
    refused,
    refused_before_building,
    refused_without_torch,
    run_cli,
    run_line,
)

# (command line, the whole message after "torchshape: error: ")
USAGE = [
    # torchshape rnn
    (
        "rnn --kind lstm-cell --lengths 1,1",
        "--lengths: nn.LSTMCell takes one time step, not a sequence to pack; "
        "drop --lengths or use --kind lstm",
    ),
    (
        "rnn --kind gru-cell --explain",
        "--explain: nn.GRUCell returns only the next state, there is no output vs h_n; "
        "drop --explain or use --kind gru",
    ),
    (
        "rnn --kind rnn-cell --seq-len 4",
        "--seq-len: nn.RNNCell takes one time step, not a sequence; add --unroll to loop it over "
        "--seq-len steps, or drop --seq-len, or use --kind rnn",
    ),
    (
        "rnn --kind transformer",
        "--kind: 'transformer' is not one of gru, lstm, rnn, gru-cell, lstm-cell, rnn-cell",
    ),
    ("rnn --hidden-size 0", "--hidden-size: 0 is out of range; use a whole number from 1 to 2147483647"),
    ("rnn --hidden-size -4", "--hidden-size: -4 is out of range; use a whole number from 1 to 2147483647"),
    ("rnn --input-size abc", "--input-size: 'abc' is not a whole number; use one from 1 to 2147483647"),
    ("rnn --seq-len 2.5", "--seq-len: '2.5' is not a whole number; use one from 1 to 2147483647"),
    ("rnn --layers 0", "--layers: 0 is out of range; use a whole number from 1 to 1024"),
    ("rnn --batch 0", "--batch: 0 is out of range; use a whole number from 1 to 2147483647"),
    ("rnn --proj-size 30", "--proj-size: 30 must be smaller than --hidden-size (30); use 0 for none"),
    (
        "rnn --proj-size 5 --kind gru",
        "--proj-size: only --kind lstm supports a projection; nn.GRU has none",
    ),
    (
        "rnn --proj-size 5 --kind rnn",
        "--proj-size: only --kind lstm supports a projection; nn.RNN has none",
    ),
    ("rnn --dropout 1", "--dropout: 1 is outside [0, 1); use a probability such as 0.2"),
    ("rnn --dropout -0.1", "--dropout: -0.1 is outside [0, 1); use a probability such as 0.2"),
    ("rnn --dropout nan", "--dropout: nan is outside [0, 1); use a probability such as 0.2"),
    ("rnn --dropout x", "--dropout: 'x' is not a number; use a probability in [0, 1)"),
    (
        "rnn --nonlinearity relu",
        "--nonlinearity: only --kind rnn and rnn-cell have a nonlinearity; nn.LSTM has fixed gates",
    ),
    ("rnn --kind rnn --nonlinearity gelu", "--nonlinearity: 'gelu' is not one of tanh, relu"),
    ("rnn --device tpu", "--device: 'tpu' is not a device; use cpu, cuda, cuda:N, mps or meta"),
    ("rnn --dtype int8", "--dtype: 'int8' is not one of float32, float64, float16, bfloat16"),
    (
        "rnn --format yaml",
        "--format: 'yaml' is not one of table, markdown, json, csv, svg, python",
    ),
    (
        "rnn --unbatched --batch 4",
        "--batch: unbatched input has no batch dimension; drop --batch or --unbatched",
    ),
    # torchshape rnn: --explain, --lengths, --unroll
    (
        "rnn --lengths 5,3 --batch 3",
        "--lengths: 2 length(s) for --batch 3; give exactly one per sequence, or drop --batch",
    ),
    (
        "rnn --lengths 6,3,2 --seq-len 5",
        "--lengths: 6 is longer than --seq-len (5); every length must be from 1 to L, "
        "so raise --seq-len, drop it (L is then the longest length), or shorten the sequence",
    ),
    ("rnn --lengths 5,0,2", "--lengths: 0 is out of range; every length must be 1 or more"),
    (
        "rnn --lengths 5,-1 --seq-len 5",
        "--lengths: -1 is out of range; every length must be from 1 to L = 5",
    ),
    ("rnn --lengths 5,x,2", "--lengths: 'x' is not a whole number; give lengths such as 5,3,2"),
    ("rnn --lengths 2.5", "--lengths: '2.5' is not a whole number; give lengths such as 5,3,2"),
    (
        "rnn --lengths ,",
        "--lengths: an empty length in ','; give one whole number per sequence, such as 5,3,2",
    ),
    (
        "rnn --lengths 4,,1",
        "--lengths: an empty length in '4,,1'; give one whole number per sequence, such as 5,3,2",
    ),
    (
        "rnn --lengths 5,3,",
        "--lengths: an empty length in '5,3,'; give one whole number per sequence, such as 5,3,2",
    ),
    ("rnn --lengths ' '", "--lengths: no lengths given; give one per sequence, such as 5,3,2"),
    ("rnn --lengths '5 3 2'", "--lengths: separate lengths with commas, not spaces: 5,3,2"),
    (
        "rnn --lengths 99999999999",
        "--lengths: 99999999999 is out of range; every length must be from 1 to 2147483647",
    ),
    (
        "rnn --lengths 5,3 --unbatched",
        "--lengths: unbatched input has no batch to pack; drop --unbatched or --lengths",
    ),
    (
        "rnn --unroll --device meta",
        "--unroll: needs values to compare, and meta tensors have none; use --device cpu (or cuda)",
    ),
    (
        "rnn --unroll --lengths 5,3,2",
        "--unroll: not with --lengths: a step loop over a padded batch runs every sequence to L; "
        "drop one of the two",
    ),
    (
        "rnn --unroll --seq-len 5000",
        "--unroll: L = 5000 steps would take 5000 calls; use --seq-len 4096 or less",
    ),
    # torchshape rnn --kind …-cell: the flags of a stack of layers
    (
        "rnn --kind lstm-cell --layers 2",
        "--layers: nn.LSTMCell is a single layer; drop --layers or use --kind lstm",
    ),
    (
        "rnn --kind gru-cell --seq-len 5",  # given explicitly, even at the layers' default
        "--seq-len: nn.GRUCell takes one time step, not a sequence; add --unroll to loop it over "
        "--seq-len steps, or drop --seq-len, or use --kind gru",
    ),
    (
        "rnn --kind rnn-cell --seq-len 1",
        "--seq-len: nn.RNNCell takes one time step, not a sequence; add --unroll to loop it over "
        "--seq-len steps, or drop --seq-len, or use --kind rnn",
    ),
    (
        "rnn --kind lstm-cell --bidir",
        "--bidir: nn.LSTMCell runs one step in one direction; drop --bidir or use --kind lstm",
    ),
    (
        "rnn --kind gru-cell --batch-first",
        "--batch-first: nn.GRUCell input has no time dimension, it is (N, H_in); "
        "drop --batch-first or use --kind gru",
    ),
    (
        "rnn --kind lstm-cell --proj-size 5",
        "--proj-size: nn.LSTMCell has no projection; drop --proj-size or use --kind lstm",
    ),
    (
        "rnn --kind gru-cell --proj-size 5",
        "--proj-size: nn.GRUCell has no projection; drop --proj-size",
    ),
    (
        "rnn --kind rnn-cell --dropout 0.2",
        "--dropout: nn.RNNCell has no dropout, which acts between stacked layers; "
        "drop --dropout or use --kind rnn with --layers 2 or more",
    ),
    (
        "rnn --kind lstm-cell --nonlinearity relu",
        "--nonlinearity: only --kind rnn and rnn-cell have a nonlinearity; nn.LSTMCell has fixed gates",
    ),
    (
        "rnn --kind gru-cell --nonlinearity tanh",
        "--nonlinearity: only --kind rnn and rnn-cell have a nonlinearity; nn.GRUCell has fixed gates",
    ),
    (
        "rnn --kind rnn-cell --unbatched --batch 4",
        "--batch: unbatched input has no batch dimension; drop --batch or --unbatched",
    ),
    (
        "rnn --kind lstm-cell --layers 3 --bidir",  # several: the first in flag order
        "--layers: nn.LSTMCell is a single layer; drop --layers or use --kind lstm",
    ),
    # torchshape rnn --time
    (
        "rnn --time --device meta",
        "--time: nothing runs on the meta device, so there is nothing to time; use --device cpu or cuda",
    ),
    ("rnn --repeats 5", "--repeats: applies only with --time; add --time to measure the forward pass"),
    ("rnn --warmup 0", "--warmup: applies only with --time; add --time to measure the forward pass"),
    ("rnn --time --repeats 0", "--repeats: 0 is out of range; use a whole number from 1 to 10000"),
    ("rnn --time --repeats ten", "--repeats: 'ten' is not a whole number; use one from 1 to 10000"),
    ("rnn --time --warmup -1", "--warmup: -1 is out of range; use a whole number from 0 to 1000"),
    # torchshape model: --device and --dtype checked as every family's, refused in model's words
    (
        "model tests/models/crnn.py:CRNN --input 2 --device tpu",
        "--device: 'tpu' is not cpu, cuda, cuda:N, mps or meta",
    ),
    (
        "model tests/models/crnn.py:CRNN --input 2 --dtype int8",
        "--dtype: 'int8' is not one of float32, float64, float16, bfloat16",
    ),
    # torchshape embedding
    (
        "embedding --num-embeddings 10 --padding-idx 10",
        "--padding-idx: 10 is out of range for --num-embeddings 10: an index must be from -10 to 9 "
        "(torch: Padding_idx must be within num_embeddings)",
    ),
    (
        "embedding --padding-idx -101",
        "--padding-idx: -101 is out of range for --num-embeddings 100: an index must be from -100 to 99 "
        "(torch: Padding_idx must be within num_embeddings)",
    ),
    ("embedding --padding-idx x", "--padding-idx: 'x' is not a whole number; use an index from -100 to 99"),
    ("embedding --mode sum", "--mode: nn.Embedding has no mode: it belongs to nn.EmbeddingBag; add --bag"),
    (
        "embedding --offsets 0,2",
        "--offsets: nn.Embedding has no offsets: it belongs to nn.EmbeddingBag; add --bag",
    ),
    (
        "embedding --per-sample-weights",
        "--per-sample-weights: nn.Embedding has no per_sample_weights: it belongs to nn.EmbeddingBag; "
        "add --bag",
    ),
    ("embedding --bag --mode median", "--mode: 'median' is not one of sum, mean, max"),
    (
        "embedding --bag --per-sample-weights",
        "--per-sample-weights: only with --mode sum, not --mode mean "
        "(torch: per_sample_weights is only supported for mode='sum')",
    ),
    (
        "embedding --bag --include-last-offset",
        "--include-last-offset: only with a 1-D input and --offsets: torch ignores it for a 2-D input and "
        "gives B rows, not B − 1 (pytorch#167974)",
    ),
    (
        "embedding --bag --shape 3,4",
        "--shape: a bag's 2-D input is (B, K): give --bags and --bag-size (or --offsets for a 1-D input)",
    ),
    (
        "embedding --bag --offsets 0,2 --bag-size 4",
        "--bag-size: a 1-D input with --offsets has no bag_size: the offsets set its bags; drop --bag-size "
        "(or --offsets for a 2-D input)",
    ),
    (
        "embedding --bag --offsets 2,4",
        "--offsets: the first offset is 2, not 0 (torch: offsets[0] has to be 0, i.e., the first sequence "
        "in the mini-batch has to start from position 0)",
    ),
    (
        "embedding --bag --offsets 0,4,3",
        "--offsets: offset 2 (3) is less than the one before it (4); offsets are where each bag starts and "
        "never decrease",
    ),
    (
        "embedding --bag --offsets 0,4 --shape 3",
        "--offsets: the last offset 4 is past the input's length L = 3 (torch: offsets[-1] can not be "
        "greater than input's length 3); use a --shape of at least 4",
    ),
    (
        "embedding --bag --offsets 0,4 --include-last-offset --shape 6",
        "--shape: with --include-last-offset the last offset is the input's length (torch's docs: the CSR "
        "format), so L is 4, not 6; torch's kernels disagree on indices past the last offset (float32 sum "
        "and mean skip them, max and float64 add them to the last bag)",
    ),
    (
        "embedding --bag --offsets 0,4 --shape 5,6",
        "--shape: 2 values; a bag's input with --offsets is 1-D: give its length L, one number",
    ),
    (
        "embedding --bag --offsets 0,a",
        "--offsets: 'a' is not a whole number; give whole numbers such as 0,2,5",
    ),
    ("embedding --shape 4,0", "--shape: 0 is out of range; use whole numbers from 1 to 2147483647"),
    ("embedding --shape 4.5", "--shape: '4.5' is not a whole number; give whole numbers such as 4,7"),
    (
        "embedding --num-embeddings 0",
        "--num-embeddings: 0 is out of range; use a whole number from 1 to 2147483647",
    ),
    (
        "embedding --embedding-dim -3",
        "--embedding-dim: -3 is out of range; use a whole number from 1 to 2147483647",
    ),
    (
        "embedding --max-norm -1",
        "--max-norm: '-1' is not a positive finite number; use a positive one, such as 1.0",
    ),
    ("embedding --max-norm abc", "--max-norm: 'abc' is not a number; use a positive one, such as 1.0"),
    ("embedding --bag --bags 0", "--bags: 0 is out of range; use a whole number from 1 to 2147483647"),
    ("embedding --dtype int8", "--dtype: 'int8' is not one of float32, float64, float16, bfloat16"),
    (
        "embedding --format csv --explain",
        "--explain: not with --format csv: CSV is one table of shapes and cannot carry "
        "the relations; use --format json, markdown or table",
    ),
    # torchshape pool
    (
        "pool --padding 2",
        "--padding: 2 on H is more than half of kernel_size 3; a pool pads at most kernel_size // 2 = 1 "
        "on each side (torch: pad should be at most half of kernel size)",
    ),
    (
        "pool --size 3,3 --kernel-size 5",
        "--kernel-size: kernel_size 5 on H is larger than the padded input H_in + 2·padding = 3, so there "
        "is no output; the smallest --size that works on H is 5",
    ),
    (
        "pool --dims 1 --size 4 --kernel-size 3 --dilation 3",
        "--kernel-size: the window (dilation·(kernel_size − 1) + 1 = 7) is larger than the padded input "
        "L_in + 2·padding = 4, so there is no output; the smallest --size that works on L is 7",
    ),
    (
        "pool --kind avg --dims 3 --size 2,8,8 --padding 1,0,0",
        "--kernel-size: kernel_size 3 on D is larger than the input D_in = 2; nn.AvgPool3d refuses that "
        "even with padding or ceil_mode (torch: input image smaller than kernel size); the smallest --size "
        "that works on D is 3",
    ),
    (
        "pool --size 1,2,3",
        "--size: 3 values for --dims 2; give one for every axis (H, W) or a single one for all",
    ),
    ("pool --kind avg --dilation 2", "--dilation: nn.AvgPool2d has no dilation; only --kind max takes it"),
    (
        "pool --output-size 3",
        "--output-size: nn.MaxPool2d takes a kernel (--kernel-size), not an output size; "
        "only --kind adaptive-max and --kind adaptive-avg take it",
    ),
    ("pool --norm-type 3", "--norm-type: nn.MaxPool2d has no norm_type; only --kind lp takes it"),
    (
        "pool --kind avg --return-indices",
        "--return-indices: nn.AvgPool2d has no return_indices; "
        "only --kind max and --kind adaptive-max take it",
    ),
    (
        "pool --no-count-include-pad",
        "--count-include-pad: nn.MaxPool2d has no count_include_pad; only --kind avg takes it",
    ),
    (
        "pool --kind adaptive-avg --kernel-size 2",
        "--kernel-size: nn.AdaptiveAvgPool2d has no kernel_size: "
        "an adaptive pool takes --output-size instead",
    ),
    (
        "pool --kind adaptive-max --ceil-mode",
        "--ceil-mode: nn.AdaptiveMaxPool2d has no ceil_mode: an adaptive pool takes --output-size instead",
    ),
    (
        "pool --kind lp --padding 1",
        "--padding: nn.LPPool2d has no padding; only --kind max and --kind avg take it",
    ),
    ("pool --dims 4", "--dims: '4' is not 1, 2 or 3 (Conv1d/2d/3d, MaxPool1d/2d/3d, ...)"),
    ("pool --kind mean", "--kind: 'mean' is not one of max, avg, lp, adaptive-max, adaptive-avg"),
    (
        "pool --kind lp --norm-type 0",
        "--norm-type: '0' is not a positive finite number; use p > 0, such as 2",
    ),
    (
        "pool --unbatched --batch 3",
        "--batch: unbatched input has no batch dimension; drop --batch or --unbatched",
    ),
    ("pool --stride 0", "--stride: 0 is out of range; use whole numbers from 1 to 2147483647"),
    (
        "pool --format csv --explain",
        "--explain: not with --format csv: CSV is one table of shapes and cannot carry "
        "the relations; use --format json, markdown or table",
    ),
]

# (command line, the flag the message must name first, words it must contain): refused before the
# command builds its module; the arguments of each command
NAMING_THE_FLAG_OF = {
    "conv": [
        ("--in-channels 3 --groups 2 --out-channels 8", "--in-channels", "divisible by --groups 2"),
        ("--in-channels 4 --groups 2 --out-channels 5", "--out-channels", "divisible by --groups 2"),
        (
            "--transposed --stride 2 --output-padding 2",
            "--output-padding",
            "smaller than either stride (2) or dilation (1)",
        ),
        (
            "--padding same --stride 2",
            "--padding",
            "padding='same' is not supported for strided convolutions",
        ),
        (
            "--kernel-size 5 --padding 0 --size 3,24",
            "--size",
            "Kernel size can't be greater than actual input size",
        ),
        ("--output-padding 1", "--output-padding", "add --transposed"),
        ("--size 32,24,5", "--size", "3 values for --dims 2"),
        ("--dims 1 --kernel-size 3,3", "--kernel-size", "2 values for --dims 1"),
        ("--transposed --padding same", "--padding", "ConvTranspose takes whole numbers"),
        ("--transposed --padding valid", "--padding", "ConvTranspose takes whole numbers"),
        ("--transposed --padding-mode reflect", "--padding-mode", "accepts only 'zeros'"),
        ("--padding-mode mirror", "--padding-mode", "not one of zeros, reflect, replicate, circular"),
        ("--padding-mode reflect --padding 3 --size 3,24", "--size", "must be smaller"),
        ("--transposed --padding 5 --size 1 --dims 1 --stride 1", "--size", "Output size is too small"),
        ("--dims 4", "--dims", "not 1, 2 or 3"),
        ("--stride 0", "--stride", "out of range"),
        ("--kernel-size x", "--kernel-size", "not a whole number"),
        ("--unbatched --batch 2", "--batch", "no batch dimension"),
        ("--device tpu", "--device", "not a device"),
    ],
    "attention": [
        ("--embed-dim 25 --heads 4", "--embed-dim", "25 is not divisible by --heads 4"),
        ("--heads 0", "--heads", "out of range"),
        ("--embed-dim x", "--embed-dim", "not a whole number"),
        ("--target-len -1", "--target-len", "out of range"),
        ("--source-len 100000000000000000000", "--source-len", "out of range"),
        ("--self --source-len 9", "--source-len", "S = L = 5"),
        ("--self --kdim 10", "--kdim", "E_k = E_v = E = 24"),
        ("--unbatched --batch 2", "--batch", "no batch dimension"),
        ("--no-need-weights --per-head-weights", "--per-head-weights", "no weights to keep per head"),
        ("--attn-mask 4d", "--attn-mask", "not one of none, 2d, 3d"),
        ("--mask-dtype float", "--mask-dtype", "no mask to give a dtype"),
        ("--key-padding-mask --mask-dtype int", "--mask-dtype", "not one of bool, float"),
        ("--dropout 1", "--dropout", "outside [0, 1)"),
        ("--dropout nan", "--dropout", "outside [0, 1)"),
        ("--dtype int8", "--dtype", "not one of"),
        ("--device tpu", "--device", "not a device"),
    ],
    "transformer": [
        ("--d-model 10 --nhead 4", "--d-model", "not divisible by --nhead 4"),
        ("--layer middle", "--layer", "not one of encoder, decoder, full"),
        ("--nhead 0", "--nhead", "out of range"),
        ("--d-model x", "--d-model", "not a whole number"),
        ("--dim-feedforward -1", "--dim-feedforward", "out of range"),
        ("--source-len 1.5", "--source-len", "not a whole number"),
        ("--batch 0", "--batch", "out of range"),
        ("--target-len 3", "--target-len", "an encoder layer has no target"),
        ("--num-encoder-layers 3", "--num-encoder-layers", "add --layer full"),
        ("--layer decoder --num-decoder-layers 3", "--num-decoder-layers", "add --layer full"),
        ("--layer full --num-decoder-layers 1025", "--num-decoder-layers", "from 1 to 1024"),
        ("--causal", "--causal", "an encoder layer has no target"),
        ("--src-mask 4d", "--src-mask", "not one of none, 2d, 3d"),
        ("--src-key-padding-mask int64", "--src-key-padding-mask", "not one of none, bool, float"),
        ("--tgt-mask 2d", "--tgt-mask", "takes no tgt_mask; it takes --src-mask, --src-key-padding-mask"),
        ("--layer decoder --src-key-padding-mask bool", "--src-key-padding-mask", "takes no"),
        ("--memory-mask 2d", "--memory-mask", "takes no memory_mask"),
        ("--device tpu", "--device", "not a device"),
        ("--dtype int8", "--dtype", "not one of"),
    ],
}
NAMING_THE_FLAG = [
    (f"{command} {args}", flag, words)
    for command, rows in NAMING_THE_FLAG_OF.items()
    for args, flag, words in rows
]

# (command line, how its one line on stderr starts, and ends): more than this machine can hold
ENVIRONMENT = [
    (
        "embedding --num-embeddings 1000000000 --embedding-dim 4096",
        "--device cpu: this forward pass needs about ",
        "",
    ),
    (
        "embedding --num-embeddings 2147483647 --embedding-dim 2147483647 --device meta",
        "weight would have shape (2147483647, 2147483647)",
        "use a smaller --num-embeddings or --embedding-dim\n",
    ),
    ("pool --size 100000,100000 --channels 100000", "--device cpu: this forward pass needs about ", ""),
]

COMMANDS = ["rnn", "conv", "pool", "attention", "embedding", "transformer"]
# words each command's --help must show
HELP_WORDS = {
    "rnn": ["--hidden-size", "--explain", "--lengths", "--unroll"],
    "embedding": ["--num-embeddings", "--include-last-offset"],
    "pool": ["--kernel-size", "--output-size"],
}
EXAMPLES = [
    example
    for command in COMMANDS
    for example in importlib.import_module(f"torchshape.families.{command}.command").EXAMPLES
]


@pytest.mark.parametrize(("line", "message"), USAGE, ids=[line for line, _ in USAGE])
def test_bad_usage_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], line: str, message: str) -> None:
    refused(capsys, shlex.split(line), message)


@pytest.mark.parametrize("command", COMMANDS)
def test_bad_usage_is_refused_before_torch_loads(command: str) -> None:
    lines = [line for line, *_ in [*USAGE, *NAMING_THE_FLAG] if line.startswith(f"{command} ")]
    refused_without_torch(command, [line.removeprefix(f"{command} ") for line in lines])


@pytest.mark.parametrize(("line", "flag", "words"), NAMING_THE_FLAG, ids=[b[0] for b in NAMING_THE_FLAG])
def test_bad_input_is_one_line_naming_the_flag(
    line: str, flag: str, words: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    command, args = line.split(" ", 1)
    err = refused_before_building(capsys, monkeypatch, command, args)
    assert err.startswith(f"torchshape: error: {flag}: "), err
    assert words in err, err


@pytest.mark.parametrize(("line", "start", "end"), ENVIRONMENT, ids=[e[0] for e in ENVIRONMENT])
def test_environment_problems_exit_1(line: str, start: str, end: str) -> None:
    code, out, err = run_line(line)
    assert (code, out) == (1, "")
    assert err.startswith(f"torchshape: error: {start}") and err.endswith(end)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_does_not_import_torch(command: str) -> None:
    out = help_without_torch(command)
    assert all(word in out for word in HELP_WORDS.get(command, [])), out
    assert command in out.split("Commands")[-1]


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_help_examples_run(example: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, *shlex.split(example)[1:])
    assert (code, err) == (0, ""), example
    assert out, example
