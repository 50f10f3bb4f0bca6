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

from torchshape import facts
from torchshape.errors import EnvironmentProblem
from torchshape.facts import ParameterRow, Totals
from torchshape.families.conv.formulas import out_size, pads, sub
from torchshape.families.conv.spec import ConvSpec, PaddingMode

# The forward pass's peak: parameters, input and output, plus what the CPU kernel allocates
# (``working``), times this margin.
PEAK_MARGIN = 1.25
MACS_PER_SECOND = {"cpu": 4e9, "cuda": 1e12}  # deliberately slow guesses, as for rnn
ELEMENTS_PER_SECOND = 1e8  # filling parameters and inputs with random numbers
TORCH_MAX_BYTES = 2**63 - 1


def batch(spec: ConvSpec) -> int:
    return 1 if spec.unbatched else spec.batch


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


def uses_onednn(spec: ConvSpec) -> bool:
    """Whether torch's CPU convolution runs on oneDNN (float32, bfloat16) rather than its own
    im2col kernel (float64, float16); on meta, what the CPU would do."""
    return spec.device in ("cpu", "meta") and spec.dtype.value in ("float32", "bfloat16")


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


def working(spec: ConvSpec) -> int:
    """Elements torch allocates beside the parameters, input and output.

    The padded copy of the input (padding_mode other than zeros, or an uneven 'same'), and:
    on oneDNN, copies of the input and the output in its blocked layout (none for a 1×1
    kernel at stride 1; measured 1.5 times over when grouped, twice in 3-d, 2.5 times when
    transposed); on torch's own kernel, the im2col columns of the whole batch.
    """
    n = numels(spec)
    if spec.device.startswith(("cuda", "mps")):  # not measured there: one sample's columns
        return padded_copy(spec) + columns(spec) // batch(spec)
    if not uses_onednn(spec):
        return padded_copy(spec) + columns(spec)
    if columns(spec) == 0:
        return padded_copy(spec)
    # measured: grouped, 3-d and transposed convolutions keep more of these copies
    copies = max(1.0, 1.5 if spec.groups > 1 else 1.0, 2.0 if spec.dims == 3 else 1.0)
    copies = max(copies, 2.5 if spec.transposed else 1.0)
    return padded_copy(spec) + math.ceil(copies * (n["input"] + n["output"]))


def totals(spec: ConvSpec) -> Totals:
    itemsize = spec.dtype.itemsize
    params = parameter_count(spec)
    n = numels(spec)
    peak = math.ceil(PEAK_MARGIN * (params + n["input"] + n["output"] + working(spec)) * itemsize)
    return Totals(
        params=params,
        macs=macs(spec),
        param_bytes=params * itemsize,
        input_bytes=n["input"] * itemsize,
        state_bytes=0,
        output_bytes=n["output"] * itemsize,
        peak_bytes_estimate=peak,
    )


def parameter_rows(spec: ConvSpec, torch_parameters: dict[str, tuple[int, ...]]) -> list[ParameterRow]:
    """Each parameter formula beside ``named_parameters()`` of the module torch built."""
    return facts.parameter_rows(parameter_formulas(spec), torch_parameters)


def estimated_seconds(spec: ConvSpec) -> float:
    family = "cuda" if spec.device.startswith("cuda") else "cpu"
    filled = parameter_count(spec) + numels(spec)["input"]
    return macs(spec) / MACS_PER_SECOND[family] + filled / ELEMENTS_PER_SECOND


def check_addressable(spec: ConvSpec) -> None:
    """Refuse any tensor or parameter whose size in bytes torch cannot represent."""
    itemsize = spec.dtype.itemsize
    shapes = [(name, n) for name, n in numels(spec).items()]
    shapes += [(name, math.prod(shape)) for name, _, shape in parameter_formulas(spec)]
    for name, numel in shapes:
        if numel * itemsize > TORCH_MAX_BYTES:
            raise EnvironmentProblem(
                f"{name} would hold {numel:.3g} elements of {itemsize} bytes ({spec.dtype.value}), "
                "beyond the 2^63 - 1 bytes a torch tensor can address; use smaller sizes"
            )


def explain_bytes(spec: ConvSpec) -> int:
    """What ``--explain``'s checks allocate beside the forward pass: copies of the input and a
    second output, measured with peak RSS (tests/test_guard_explain.py)."""
    n = numels(spec)
    return int((5 * n["input"] + 0.5 * n["output"]) * spec.dtype.itemsize)
