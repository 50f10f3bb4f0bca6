"""Parameters, compute and memory of one convolution, in the PyTorch docs' symbols.

Pure arithmetic, no torch.

    Conv           weight (C_out, C_in/groups, *kernel_size)   bias (C_out)
    ConvTranspose  weight (C_in, C_out/groups, *kernel_size)   bias (C_out)

Every parameter starts as U(−√k, √k) with k = groups / (C_in·∏kernel_size) (Conv) or
groups / (C_out·∏kernel_size) (ConvTranspose).

MACs (multiply-accumulates), the products of the kernel with the input:

    Conv           N·C_out·∏out·(C_in/groups)·∏kernel_size
    ConvTranspose  N·C_in·∏in·(C_out/groups)·∏kernel_size

(N is 1 unbatched). torch's own counter, ``torch.utils.flop_counter.FlopCounterMode``,
reports exactly 2·MACs for both (a test checks it); bias additions are not counted.
"""

from __future__ import annotations

import math

from torchshape import processor
from torchshape.facts import Totals
from torchshape.families import layer_counts
from torchshape.families.conv.formulas import out_size, pads, sub
from torchshape.families.conv.spec import ConvSpec, PaddingMode
from torchshape.families.layer_counts import PEAK_MARGIN, batch


def kernel_formula(spec: ConvSpec) -> str:
    return ", ".join(f"kernel_size{sub(spec, i)}" for i in range(spec.dims))


def parameter_formulas(spec: ConvSpec) -> list[tuple[str, str, tuple[int, ...]]]:
    """(name, formula, shape) of every parameter, in ``named_parameters()`` order."""
    g = spec.groups
    if spec.transposed:
        weight = (f"(C_in, C_out/groups, {kernel_formula(spec)})", (spec.in_channels, spec.out_channels // g))
    else:
        weight = (f"(C_out, C_in/groups, {kernel_formula(spec)})", (spec.out_channels, spec.in_channels // g))
    rows = [("weight", weight[0], (*weight[1], *spec.kernel_size))]
    if spec.bias:
        rows.append(("bias", "(C_out)", (spec.out_channels,)))
    return rows


def parameter_count(spec: ConvSpec) -> int:
    return sum(math.prod(shape) for _, _, shape in parameter_formulas(spec))


def init_bound(spec: ConvSpec) -> float:
    fan_in = (spec.out_channels if spec.transposed else spec.in_channels) // spec.groups
    return 1.0 / math.sqrt(fan_in * math.prod(spec.kernel_size))


def macs(spec: ConvSpec) -> int:
    kernel = math.prod(spec.kernel_size)
    if spec.transposed:
        return (
            batch(spec)
            * spec.in_channels
            * math.prod(spec.size)
            * (spec.out_channels // spec.groups)
            * kernel
        )
    per = (spec.in_channels // spec.groups) * kernel
    return batch(spec) * spec.out_channels * math.prod(out_size(spec)) * per


def macs_formula(spec: ConvSpec) -> str:
    n = "" if spec.unbatched else "N·"
    k = "·".join(f"kernel_size{sub(spec, i)}" for i in range(spec.dims))
    if spec.transposed:
        ins = "·".join(f"{a}_in" for a in spec.axes)
        return f"{n}C_in·{ins}·(C_out/groups)·{k}"
    outs = "·".join(f"{a}_out" for a in spec.axes)
    return f"{n}C_out·{outs}·(C_in/groups)·{k}"


def numels(spec: ConvSpec) -> dict[str, int]:
    n = batch(spec)
    return {
        "input": n * spec.in_channels * math.prod(spec.size),
        "output": n * spec.out_channels * math.prod(max(0, s) for s in out_size(spec)),
    }


def padded_copy(spec: ConvSpec) -> int:
    """Elements of the padded copy of the input torch makes (0 when it pads inside the kernel)."""
    uneven = spec.padding == "same" and any(b != a for b, a in pads(spec))
    if spec.padding_mode is PaddingMode.ZEROS and not uneven:
        return 0
    padded = math.prod(s + b + a for s, (b, a) in zip(spec.size, pads(spec), strict=True))
    return batch(spec) * spec.in_channels * padded


def onednn_path(spec: ConvSpec) -> bool | None:
    """Whether torch's CPU convolution runs on oneDNN rather than its own im2col kernel (None:
    not known here, so the estimate takes the larger). On meta, what the CPU would do.

    float32 takes oneDNN unless torch finds its own kernel faster: a 1×1 kernel at stride 1,
    without dilation, under 16 samples, on one thread; and a small batch of one sample with a
    kernel of at most 3 per axis, not grouped. bfloat16 takes oneDNN where the processor
    has the instructions for it, float16 where it has AVX-512 FP16 or AVX-NE-CONVERT;
    float64 never (torch's ``ConvParams::use_mkldnn``).
    """
    if spec.device not in ("cpu", "meta"):
        return False
    flags = processor.cpu_flags()
    if spec.dtype.value == "bfloat16":
        return processor.onednn_bfloat16()
    if spec.dtype.value == "float16":
        return None if flags is None or flags & {"avx512_fp16", "avx_ne_convert"} else False
    if spec.dtype.value != "float32":
        return False
    if spec.transposed and any(o >= s for o, s in zip(spec.output_padding, spec.stride, strict=True)):
        return False
    n = batch(spec)
    last_two = spec.kernel_size[-2:] if spec.dims > 1 else (1, spec.kernel_size[0])
    as_4d = (n, spec.in_channels, *(spec.size[:2] if spec.dims > 1 else (1, spec.size[0])))
    worth_it = spec.groups > 1 or min(last_two) > 3 or n > 1 or math.prod(as_4d) > 20480
    if not worth_it:
        return False
    if any(s != 1 for s in spec.stride) or any(d != 1 for d in spec.dilation) or n >= 16:
        return True
    if last_two != (1, 1):
        return True
    threads = processor.torch_threads()
    return None if threads is None else threads > 1


def columns(spec: ConvSpec) -> int:
    """Elements of torch's own kernel's im2col buffer: (C_in/groups·∏kernel) × ∏(the larger side)
    for every sample (measured); none for a 1×1 kernel at stride 1 without padding, which
    multiplies the input as it is."""
    if (
        all(k == 1 for k in spec.kernel_size)
        and spec.stride == (1,) * spec.dims
        and not any(b or a for b, a in pads(spec))
    ):
        return 0
    positions = math.prod(out_size(spec)) if not spec.transposed else math.prod(spec.size)
    channels = (spec.out_channels if spec.transposed else spec.in_channels) // spec.groups
    return channels * math.prod(spec.kernel_size) * max(1, positions) * spec.groups * batch(spec)


def blocked(n: int, channels: int, positions: int, block: int) -> int:
    """Elements of an (N, C, *spatial) tensor in oneDNN's layout that groups channels by ``block``."""
    return n * -(-channels // block) * block * positions


def onednn_working(spec: ConvSpec) -> int:
    """Elements oneDNN's convolution keeps beside the parameters, the input and the output.

    torch hands oneDNN plain (N, C, *spatial) tensors; oneDNN reorders the input into its
    blocked layout (channels in groups of 16 with AVX-512, of 8 below it, the last group
    padded), computes a blocked output and reorders that into torch's output once the
    blocked input is freed: at its peak, the input, the blocked output and the larger of
    the blocked input and the output. With AVX-512 it reads the input as it is for fewer
    than 16 input channels, ungrouped, when the kernel is not 1×1 without padding; grouped
    convolutions block each group's channels without padding them, except a depthwise one
    (one input channel per group), which blocks all channels. A transposed convolution keeps
    all four. Measured with peak RSS (tests/test_guard_peaks.py).
    """
    n = batch(spec)
    block = processor.onednn_channel_block()
    avx512 = processor.avx512_core() is True
    padded = padded_copy(spec)
    positions_in = padded // (n * spec.in_channels) if padded else math.prod(spec.size)
    positions_out = math.prod(max(0, s) for s in out_size(spec))
    plain_in, plain_out = n * spec.in_channels * positions_in, numels(spec)["output"]
    in_b = blocked(n, spec.in_channels, positions_in, block)
    out_b = blocked(n, spec.out_channels, positions_out, block)
    per_group_in = spec.in_channels // spec.groups
    if spec.transposed:
        return padded + in_b + out_b
    if spec.groups > 1 and per_group_in > 1:
        if avx512:
            in_b, out_b = plain_in, plain_out
        else:
            in_b = spec.groups * blocked(n, per_group_in, positions_in, block)
            out_b = spec.groups * blocked(n, spec.out_channels // spec.groups, positions_out, block)
    # a padding mode other than zeros pads a copy: the kernel itself then pads nothing
    unpadded = bool(padded) or not any(b or a for b, a in pads(spec))
    one_by_one = all(k == 1 for k in spec.kernel_size) and unpadded
    reads_plain = avx512 and spec.in_channels < 16 and spec.groups == 1 and not one_by_one
    if reads_plain and spec.dtype.value == "bfloat16":  # its bfloat16 kernel: offsets within int32
        reads_plain = max(spec.in_channels, spec.out_channels) * 2 * positions_in < 2**31 - 1
    if reads_plain:
        in_b = 0
    return padded + out_b + max(in_b, plain_out) - plain_out


def native_working(spec: ConvSpec) -> int:
    """Elements torch's own kernel keeps beside the parameters, the input and the output: the
    im2col columns of the whole batch; grouped, it runs group by group on a copy of the
    group's input and concatenates the groups' outputs: the larger of one group's input and
    columns, and a second output. Measured with peak RSS (tests/test_guard_peaks.py)."""
    padded = padded_copy(spec)
    if spec.groups == 1:
        return padded + columns(spec)
    group_input = (padded or numels(spec)["input"]) + columns(spec)
    return padded + max(-(-group_input // spec.groups), numels(spec)["output"])


def working(spec: ConvSpec) -> int:
    """Elements torch allocates beside the parameters, input and output: a padded copy of the
    input (padding_mode other than zeros, or an uneven 'same'), and what the kernel torch
    picks keeps (``onednn_working``, ``native_working``); where the kernel is not known here,
    the larger of the two."""
    if spec.device.startswith(("cuda", "mps")):  # not measured there: one sample's columns
        return padded_copy(spec) + columns(spec) // batch(spec)
    onednn = onednn_path(spec)
    if onednn is None:
        return max(onednn_working(spec), native_working(spec))
    return onednn_working(spec) if onednn else native_working(spec)


def totals(spec: ConvSpec) -> Totals:
    """The peak: parameters, input and output, plus what the CPU kernel allocates (``working``)."""
    itemsize = spec.dtype.itemsize
    params = parameter_count(spec)
    n = numels(spec)
    peak = math.ceil(PEAK_MARGIN * (params + n["input"] + n["output"] + working(spec)) * itemsize)
    inputs, outputs = n["input"] * itemsize, n["output"] * itemsize
    return layer_counts.totals(spec, params, macs(spec), inputs=inputs, outputs=outputs, peak=peak)


def estimated_seconds(spec: ConvSpec) -> float:
    return layer_counts.seconds(spec, macs(spec), parameter_count(spec) + numels(spec)["input"])


def check_addressable(spec: ConvSpec) -> None:
    """Refuse any tensor or parameter whose size in bytes torch cannot represent."""
    parameters = [(name, math.prod(shape)) for name, _, shape in parameter_formulas(spec)]
    layer_counts.refuse_unaddressable(spec, [*numels(spec).items(), *parameters])


def explain_bytes(spec: ConvSpec) -> int:
    """What ``--explain``'s checks allocate beside the forward pass: copies of the input and a
    second output, measured with peak RSS (tests/test_guard_explain.py)."""
    n = numels(spec)
    return int((5 * n["input"] + 0.5 * n["output"]) * spec.dtype.itemsize)
