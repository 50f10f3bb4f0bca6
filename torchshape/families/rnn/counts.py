"""What one forward pass costs: its working sets on every CPU path (measured), the totals the
guard and the footer show, the parameter rows beside torch's, and a time estimate.

Pure arithmetic, no torch, over the sizes of ``torchshape.families.rnn.sizes``.
"""

from __future__ import annotations

import math

from torchshape.facts import ParameterRow, Totals, unclaimed_rows
from torchshape.families.layer_counts import ELEMENTS_PER_SECOND, MACS_PER_SECOND, PEAK_MARGIN
from torchshape.families.rnn.formulas import symbols
from torchshape.families.rnn.sizes import macs, parameter_count, parameters_at_size, steps, tensor_numels
from torchshape.families.rnn.spec import Kind, RNNSpec
from torchshape.processor import onednn_bfloat16

# The estimate of the forward pass's peak memory: the tensors that exist throughout
# (parameters, input, h_0/c_0, h_n/c_n) plus the working set of the largest layer,
# times ``PEAK_MARGIN``. See ``forward_working_bytes`` for the working set and docs/rnn.md,
# section "Parameters, compute and memory" for the measurements behind it.
# Each time step leaves small tensors behind until its layer is done (the step's
# output, its slice of the precomputed gates): measured about 640 bytes per step and
# direction on the CPU; counted as 1 KiB.
STEP_BOOKKEEPING_BYTES = 1024
# oneDNN's bfloat16 matrix products keep, for every shape they have met, about 560 KiB
# (its generated kernels and cached primitives, whatever the sizes: measured 540 to 590 KiB
# for products from 32×32 to 512×576). A packed batch's steps meet one shape per distinct
# batch size; see ``packed_kernel_bytes``.
ONEDNN_KERNEL_BYTES = 600 * 1024


def uses_onednn(spec: RNNSpec) -> bool | None:
    """Whether torch's CPU LSTM runs on oneDNN (``mkldnn_rnn``) rather than its own step loop.

    torch takes oneDNN for a whole-sequence LSTM without proj_size on the CPU, unpacked, in
    float32; in bfloat16 and float16 only where the processor has the instructions for them
    (``torchshape.processor``; None: not known). Packed sequences, GRU, RNN and the cells take
    the loop.
    """
    if spec.kind is not Kind.LSTM or spec.proj_size or spec.device != "cpu":
        return False
    if spec.dtype.value == "float32":
        return True
    if spec.dtype.value == "bfloat16":
        return onednn_bfloat16()
    return None if spec.dtype.value == "float16" else False


def loop_working_features(spec: RNNSpec) -> int:
    """Features per real step alive in the largest layer of torch's own step loop.

    The layer's input (D·H_out for layers above the first; the first reads ``input``), the
    input-to-hidden products, computed for the whole sequence before stepping (G·H_cell),
    and the outputs: the steps' outputs and their stacked copy (2·H_out). With two
    directions, measured (tests/test_guard_peaks.py): the larger of both directions'
    products with 2·H_out, and one direction's with 6·H_out (each direction's steps and
    stacked outputs, and their concatenation).
    """
    sym = symbols(spec)
    gates = spec.kind.gates * sym["H_cell"]
    layer_input = sym["D·H_out"] if sym["num_layers"] > 1 else 0
    if spec.device.startswith(("cuda", "mps")):
        # cuDNN and MPS: every direction's products, and (4·D − 2)·H_out of outputs (measured on
        # an H200: a bidirectional GRU 256→512, L 1000, N 32 peaks at 1.02 GB)
        return layer_input + sym["D"] * gates + (4 * sym["D"] - 2) * sym["H_out"]
    if sym["D"] == 1:
        return layer_input + gates + 2 * sym["H_out"]
    return layer_input + max(2 * gates + 2 * sym["H_out"], gates + 6 * sym["H_out"])


def onednn_working_features(spec: RNNSpec) -> int:
    """Features per step that oneDNN's LSTM keeps beside ``input``, the weights and ``output``.

    Measured (tests/test_guard_peaks.py): one direction keeps one more H_out for one layer and
    two for deeper stacks; two directions keep three more for one layer, eight for deeper
    stacks (each layer's outputs, per direction and concatenated, and the next one's). With
    batch_first, a contiguous copy of the input (H_in).
    """
    sym = symbols(spec)
    deep = sym["num_layers"] > 1
    kept = (8 if deep else 3) if sym["D"] == 2 else (2 if deep else 1)
    return kept * sym["H_out"] + (sym["H_in"] if spec.batch_first else 0)


def strided_product_bytes(spec: RNNSpec, real: int) -> int:
    """The first layer's input-to-hidden product in bfloat16 with batch_first on the CPU (0 elsewhere).

    torch's step loop multiplies the transposed input (L, N, H_in), which no view flattens, and
    in bfloat16 that product runs as a batched one over L: a contiguous copy of the input
    (L·N·H_in) and the weight broadcast to every time step (L·G·H_cell·H_in), both alive beside
    the product (L·N·G·H_cell). With two directions the second direction's product runs while
    the first one's products (G·H_cell) and outputs (2·H_out: its steps' and their stacked copy)
    are still alive. Measured (one product, bfloat16, the copy and the broadcast weight within
    0.5 MiB of these counts; float16 and an untransposed input: neither).
    """
    if spec.dtype.value != "bfloat16" or spec.device != "cpu" or not spec.batch_first:
        return 0
    if spec.kind.is_cell or spec.unbatched:
        return 0
    sym = symbols(spec)
    itemsize = spec.dtype.itemsize
    gates = spec.kind.gates * sym["H_cell"]
    first_direction = gates + 2 * sym["H_out"] if sym["D"] == 2 else 0
    alive = real * itemsize * (sym["H_in"] + gates + first_direction)
    return alive + spec.seq_len * gates * sym["H_in"] * itemsize


def forward_working_bytes(spec: RNNSpec, real_steps: int | None = None) -> int:
    """What the largest layer allocates while it runs, beyond the tensors that live throughout
    (parameters, input, h_0/c_0, h_n/c_n): per feature of one real step, (``real_steps`` or)
    L·N·itemsize bytes.

    torch's own step loop (``loop_working_features``) also leaves ``STEP_BOOKKEEPING_BYTES``
    per time step and direction. oneDNN's LSTM (``onednn_working_features``) also copies the
    weights into its own layout, and makes ``output``. Where the path is not known without
    torch (a half-precision LSTM), the larger of the two.
    """
    sym = symbols(spec)
    if real_steps is not None:
        real = real_steps
    elif spec.lengths is not None:  # the padded forward pass runs over the whole rectangle
        real = spec.seq_len * len(spec.lengths)
    else:
        real = steps(spec)
    per_feature = real * spec.dtype.itemsize
    time_steps = 1 if spec.kind.is_cell else spec.seq_len
    loop = per_feature * loop_working_features(spec) + STEP_BOOKKEEPING_BYTES * time_steps * sym["D"]
    if real_steps is None:
        loop = max(loop, strided_product_bytes(spec, real))
    onednn = uses_onednn(spec)
    if onednn is False:
        return loop
    output = per_feature * sym["D·H_out"]
    fused = per_feature * onednn_working_features(spec) + output + parameter_count(spec) * spec.dtype.itemsize
    return fused if onednn else max(loop, fused)


def packed_working_bytes(spec: RNNSpec) -> int:
    """With --lengths, after the padded forward pass (whose ``output`` stays): the packed one.

    pack_padded_sequence copies the real steps of ``input`` (sum(lengths)·H_in, measured twice
    over; with batch_first, a transposed copy of the padded input too), torch's step
    loop runs over them with one direction's input-to-hidden products alive (G·H_cell) and
    the steps' outputs (2·H_out; two directions: 6·H_out), except
    where every length is the same and the LSTM runs on oneDNN (``forward_working_bytes`` over
    the real steps);
    pad_packed_sequence then pads the packed output twice (with and without total_length). The
    larger moment counts.
    """
    if spec.lengths is None:
        return 0
    sym = symbols(spec)
    itemsize = spec.dtype.itemsize
    real = sum(spec.lengths) * itemsize
    padded_output = tensor_numels(spec)["output"] * itemsize
    packed_data = 2 * real * sym["H_in"]
    if spec.batch_first:  # packing transposes: a copy of the padded input
        packed_data += tensor_numels(spec)["input"] * itemsize
    gates = spec.kind.gates * sym["H_cell"]
    D, H_out = sym["D"], sym["H_out"]
    # two directions run one after the other: one direction's products at a time (measured with
    # proj_size, where D·G·H_cell would count 1.6× the 1,360 features a step kept of LSTM 256→256,
    # proj_size 64)
    looping = real * (gates + (6 if D == 2 else 2) * H_out)
    looping += STEP_BOOKKEEPING_BYTES * spec.seq_len * sym["D"]
    if uses_onednn(spec) is not False and len(set(spec.lengths)) == 1:
        # torch unpacks a batch of equal lengths and runs oneDNN's LSTM on it
        fused = forward_working_bytes(spec, sum(spec.lengths))
        looping = fused if uses_onednn(spec) else max(looping, fused)
    padding = real * sym["D·H_out"] + 2 * padded_output
    return padded_output + packed_data + max(looping, padding)


def packed_kernel_bytes(spec: RNNSpec) -> int:
    """What oneDNN keeps after a packed batch's step loop in bfloat16 (on the CPU, where the
    processor hands bfloat16 to oneDNN or may): ``ONEDNN_KERNEL_BYTES`` per product shape met.

    torch computes the input-to-hidden products of the whole packed data at once (one shape);
    each step multiplies its batch's hidden state (h·W_hhᵀ, and with proj_size h·W_hrᵀ), and the
    batch shrinks as sequences end: one shape per distinct batch size, that is per distinct
    length, the same in every layer and direction. Measured (tests/test_guard_peaks.py): 0.57 MiB
    per distinct length, twice that with proj_size, whatever H_in, H, the layers and directions.
    """
    if spec.lengths is None or spec.dtype.value != "bfloat16" or spec.device != "cpu":
        return 0
    if onednn_bfloat16() is False:
        return 0
    products = 2 if spec.proj_size else 1
    return ONEDNN_KERNEL_BYTES * products * len(set(spec.lengths))


def totals(spec: RNNSpec) -> Totals:
    itemsize = spec.dtype.itemsize
    params = parameter_count(spec)
    numels = tensor_numels(spec)
    states = sum(n for name, n in numels.items() if name in ("h_0", "c_0", "h_n", "c_n"))
    # A cell's output is its next state, h_1 (and c_1).
    output = numels["output"] if "output" in numels else numels["h_1"] + numels.get("c_1", 0)
    resident = (params + numels["input"] + states) * itemsize
    # the padded forward pass, then the packed one, after which oneDNN's kernels stay (a
    # measured, fixed cost: no margin)
    padded = PEAK_MARGIN * (resident + forward_working_bytes(spec))
    packed = PEAK_MARGIN * (resident + packed_working_bytes(spec)) + packed_kernel_bytes(spec)
    peak = math.ceil(max(padded, packed))
    return Totals(
        params=params,
        macs=macs(spec).total,
        param_bytes=params * itemsize,
        input_bytes=numels["input"] * itemsize,
        state_bytes=states * itemsize,
        output_bytes=output * itemsize,
        peak_bytes_estimate=peak,
    )


def parameter_rows(
    spec: RNNSpec, torch_parameters: dict[str, tuple[int, ...]], built_layers: int | None = None
) -> list[ParameterRow]:
    """Set each parameter formula beside ``named_parameters()`` of the module torch built.

    ``built_layers``: on meta, how many layers torch built; the rows of deeper layers
    say they come from the formulas.
    """
    rows = []
    for p, shape in parameters_at_size(spec):
        actual = torch_parameters.get(p.name)
        source = "formula" if built_layers is not None and p.layer >= built_layers else "torch"
        rows.append(ParameterRow(p.name, p.formula, shape, math.prod(shape), actual, actual == shape, source))
    return rows + unclaimed_rows({row.name for row in rows}, torch_parameters)


# Deliberately slow guesses of throughput, used only to decide whether a real forward
# pass deserves a progress spinner and to say roughly how long it may take. Measured
# here on a loaded 2-core machine: 1 to 20 G MACs a second and 4 to 11 µs a step on
# the CPU; an H100 ran a 4-layer LSTM (L = 512, N = 64, H = 1024) at about 30 T MACs
# a second.
SECONDS_PER_STEP = {"cpu": 20e-6, "cuda": 20e-6}  # one layer, one direction, one time step


def estimated_seconds(spec: RNNSpec) -> float:
    """A rough, pessimistic guess of how long building and running the module takes."""
    family = "cuda" if spec.device.startswith("cuda") else "cpu"
    sym = symbols(spec)
    numels = tensor_numels(spec)
    filled = parameter_count(spec) + numels["input"]
    cell_steps = spec.seq_len * sym["D·num_layers"]
    return (
        macs(spec).total / MACS_PER_SECOND[family]
        + cell_steps * SECONDS_PER_STEP[family]
        + filled / ELEMENTS_PER_SECOND
    )


def diagram_bytes(spec: RNNSpec) -> int:
    """What ``--diagram`` allocates beside the forward pass: it runs the layers one at a time while
    the whole pass's results are kept, and keeps every layer's output below the top one
    ((num_layers − 1)·L·N·D·H_out), measured."""
    if spec.kind.is_cell:
        return 0
    sym = symbols(spec)
    per_layer = spec.seq_len * (1 if spec.unbatched else spec.batch) * sym["D·H_out"]
    return math.ceil(PEAK_MARGIN * (sym["num_layers"] - 1) * per_layer * spec.dtype.itemsize)
