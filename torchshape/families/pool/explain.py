"""--explain for pools: what each window reads, as facts in plain data. Pure, no torch.

Each ``Claim`` states facts that follow from the rules and one claim that the probe
(``torchshape.families.pool.probe``) checks on torch's values: ``holds`` is True or
False there, and None on meta, where no values exist.

- adaptive pools: the windows on every axis (start ⌊i·in/out⌋, end ⌈(i+1)·in/out⌉) and
  whether they overlap; checked by a max or mean over exactly those windows;
- ceil_mode: on every axis, the extra window rounding up adds and whether torch dropped
  it; checked against the same pool with ceil_mode=False;
- input positions no window reads (the stride past the window's span, dilation's gaps, the
  floor's remainder at the end); checked by perturbing every input position, one at a time;
- return_indices: indices point into each (N, C) plane flattened; checked by gathering
  (and with MaxUnpool for MaxPool).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torchshape.explain import Claim, all_held
from torchshape.families.pool.formulas import adaptive_windows, windows, windows_overlap
from torchshape.families.pool.spec import Kind, PoolSpec
from torchshape.families.spatial import Coverage, Window, axes, joint, sliding_coverage

# Windows listed in the table before "…"; JSON lists up to MAX_LISTED per axis.
SHOWN_WINDOWS = 6
MAX_LISTED = 1024
# The adaptive check reduces one window at a time: past this many windows in all, it is skipped.
MAX_CHECKED_WINDOWS = 4096


@dataclass(frozen=True)
class Analysis:
    """What the pool's probe checked beyond the shapes."""

    torch_parameters: int  # how many parameters torch's module has (a pool: none)
    findings: tuple[Claim, ...] | None  # None without --explain
    values: bool  # False on meta

    @property
    def ok(self) -> bool:
        findings = self.findings or ()
        return self.torch_parameters == 0 and all_held(findings)


def _spans_text(spans: list[tuple[int, int]]) -> str:
    def one(span: tuple[int, int]) -> str:
        return f"[{span[0]}, {span[1]})"

    if len(spans) <= SHOWN_WINDOWS:
        return " ".join(one(s) for s in spans)
    head = " ".join(one(s) for s in spans[: SHOWN_WINDOWS - 2])
    return f"{head} … {' '.join(one(s) for s in spans[-2:])}"


def adaptive_finding(spec: PoolSpec) -> Claim:
    facts = []
    data: dict[str, Any] = {"axes": []}
    reduce = "max" if spec.kind is Kind.ADAPTIVE_MAX else "mean"
    for axis, size, out in zip(axes(spec.dims), spec.size, spec.output_size, strict=True):
        listed = min(out, MAX_LISTED)
        spans = adaptive_windows(size, out) if out <= MAX_LISTED else []
        overlap = windows_overlap(spans) if spans else (size % out != 0 and out < size)
        lengths = sorted({e - s for s, e in spans})
        facts.append(
            f"{axis}: {out} windows over {axis}_in = {size}: {_spans_text(spans) if spans else '(many)'}; "
            f"lengths {', '.join(map(str, lengths)) or '?'}; {'they overlap' if overlap else 'no overlap'}"
        )
        data["axes"].append(
            {
                "axis": axis,
                "in": size,
                "out": out,
                "windows": [list(s) for s in spans[:listed]],
                "overlap": overlap,
            }
        )
    return Claim(
        topic="adaptive windows",
        facts=tuple(facts),
        claim=f"torch's output is the {reduce} over exactly these windows "
        "(start ⌊i·in/out⌋, end ⌈(i+1)·in/out⌉)",
        data=data,
    )


def floor_out(window: Window) -> int:
    return (window.padded - window.span) // window.stride + 1


def ceil_findings(spec: PoolSpec) -> list[Claim]:
    found = []
    for window in windows(spec):
        floor = floor_out(window)
        rounded = (window.padded - window.span + window.stride - 1) // window.stride + 1
        axis = window.axis
        data: dict[str, Any] = {"axis": axis, "floor_out": floor, "ceil_out": rounded, "out": window.out}
        data |= {"extra_window": None, "dropped": False}
        if rounded == floor:
            facts = (f"{axis}: the windows end exactly at the padded input's end: ⌈…⌉ = ⌊…⌋ = {floor}",)
        else:
            start = (rounded - 1) * window.stride - window.padding
            end = start + window.span
            data["extra_window"] = [start, end]
            data["dropped"] = window.dropped_by_ceil
            if window.dropped_by_ceil:
                facts = (
                    f"{axis}: rounding up adds window {rounded - 1}, input positions [{start}, {end}); "
                    f"it starts at {start} ≥ {axis}_in = {window.size}, in the right padding, "
                    f"so torch drops it: {axis}_out = {window.out}, as without ceil_mode",
                )
            else:
                inside = min(end, window.size) - start
                facts = (
                    f"{axis}: rounding up adds window {rounded - 1}, input positions [{start}, {end}), "
                    f"past the input's end {window.size}; it starts inside the input, so torch keeps it "
                    f"({inside} of its positions are real): {axis}_out = {window.out}, not {floor}",
                )
        claim = (
            f"the same pool with ceil_mode=False gives {axis}_out = {floor}, "
            "and ceil_mode's output begins with exactly its values"
        )
        if floor <= 0:
            claim = f"without ceil_mode, {axis}_out would be {floor}: torch refuses the input"
        found.append(Claim(topic="ceil_mode", facts=facts, claim=claim, data=data))
    return found


def coverage(window: Window) -> Coverage:
    """The input positions on this axis that no window reads."""
    return sliding_coverage(
        window.axis, window.size, window.padding, window.kernel, window.stride, window.dilation, window.out
    )


def unread_findings(spec: PoolSpec) -> list[Claim]:
    """Per axis with input positions no window reads: every one of them."""
    found = []
    every = joint([coverage(w) for w in windows(spec)])
    for window, c in zip(windows(spec), every, strict=True):
        if c.unread is not None and not c.unread:
            continue
        found.append(
            Claim(
                topic="unread",
                facts=(f"{window.axis}: {c.text()}",),
                claim=f"changing any one of these positions on {window.axis} changes no output; "
                "changing any other input position does",
                data=c.as_dict(),
            )
        )
    return found


def padding_only(window: Window) -> list[int]:
    """Output positions whose window, its taps spaced by dilation, reads no input position at all."""
    found = []
    for i in range(max(0, window.out)):
        start = i * window.stride - window.padding
        taps = (start + j * window.dilation for j in range(window.kernel))
        if not any(0 <= tap < window.size for tap in taps):
            found.append(i)
        if i > 64 and not found:  # only the first and last windows can miss the input
            break
    return found


def indices_finding(spec: PoolSpec) -> Claim:
    lead = "" if spec.unbatched else "N, "
    claim = (
        "input.flatten(-dims).gather(-1, indices.flatten(-dims)) equals output: each index points "
        f"into its ({lead}C) plane of the input, flattened"
    )
    facts = [f"indices hold positions 0 to {'·'.join(f'{a}_in' for a in axes(spec.dims))} − 1 of each plane"]
    for window in windows(spec) if spec.kind is Kind.MAX else []:
        empty = padding_only(window)
        if empty:
            facts.append(
                f"{window.axis}: window(s) {', '.join(map(str, empty))} read only padding (dilation "
                "skips every input position): torch gives −inf there, with an index outside the plane"
            )
            claim = claim.replace("equals output", "equals output wherever a window reads the input")
    if unpools(spec):
        facts.append(
            f"nn.MaxUnpool{spec.dims}d(kernel_size, stride, padding)(output, indices, "
            "output_size=input.shape) puts each maximum back where it was"
        )
        claim += "; MaxUnpool puts every maximum back in place"
    return Claim(topic="indices", facts=tuple(facts), claim=claim)


def unpools(spec: PoolSpec) -> bool:
    """nn.MaxUnpoolNd takes no dilation: it undoes a MaxPool without one."""
    return spec.kind is Kind.MAX and all(d == 1 for d in spec.dilation)


def findings(spec: PoolSpec) -> list[Claim]:
    """Every finding --explain shows for this configuration, before torch checks them."""
    out: list[Claim] = []
    if spec.kind.adaptive:
        out.append(adaptive_finding(spec))
    else:
        if spec.ceil_mode:
            out += ceil_findings(spec)
        out += unread_findings(spec)
    if spec.return_indices:
        out.append(indices_finding(spec))
    return out
