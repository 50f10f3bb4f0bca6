"""``--diagram`` of convolutions and pools: one spatial axis as a row of windows.

Pure arithmetic, no torch, over the sliding window of ``torchshape.families.spatial``.
"""

from __future__ import annotations

from torchshape.diagram import MAX_WINDOWS_LISTED, AxisDiagram, AxisWindow
from torchshape.families.spatial import sliding_coverage, transposed_out


def _window(
    index: int, offset: int, kernel: int, stride: int, dilation: int, mark: str | None = None
) -> AxisWindow:
    """Window ``index``: from index·stride − ``offset``, ``kernel`` taps ``dilation`` apart."""
    start = index * stride - offset
    taps = tuple(start + j * dilation for j in range(kernel))
    return AxisWindow(index, start, start + dilation * (kernel - 1) + 1, taps, mark)


def sliding_diagram(
    title: str,
    axis: str,
    size: int,
    pads: tuple[int, int],
    kernel: int,
    stride: int,
    dilation: int,
    *,
    ceil_mode: bool = False,
    torch_out: int | None = None,
    formula: str = "",
    note: str = "",
    padding_mode: str = "zeros",
) -> AxisDiagram:
    """One axis of a convolution or pool: every window (start, end, taps), the ceil_mode extra
    one, the positions after the last window that none reaches (the floor's remainder), and
    every input position no window reads (``sliding_coverage``, the fact --explain checks)."""
    before, after = pads
    span = dilation * (kernel - 1) + 1
    padded = size + before + after
    floor_out = (padded - span) // stride + 1
    out, extra = floor_out, None
    if ceil_mode:
        rounded = (padded - span + stride - 1) // stride + 1
        if rounded > floor_out:
            dropped = (rounded - 1) * stride >= size + before
            out = rounded - 1 if dropped else rounded
            extra = (rounded - 1, "dropped" if dropped else "ceil_mode")

    listed = [
        _window(i, before, kernel, stride, dilation) for i in range(min(max(out, 0), MAX_WINDOWS_LISTED))
    ]
    if extra is not None:
        index, mark = extra
        if mark == "ceil_mode" and listed and listed[-1].index == index:
            listed[-1] = _window(index, before, kernel, stride, dilation, mark)
        elif mark == "dropped":
            listed.append(_window(index, before, kernel, stride, dilation, mark))
    unreached, lost = None, 0
    if out > 0:
        last_end = (out - 1) * stride + span - before  # in input positions
        if last_end < size + after:
            unreached = (last_end, size + after)
            lost = max(0, size - last_end)
    coverage = sliding_coverage(axis, size, before, kernel, stride, dilation, out, padding_mode)
    return AxisDiagram(
        title=title,
        axis=axis,
        size=size,
        pad_before=before,
        pad_after=after,
        kernel_size=kernel,
        stride=stride,
        dilation=dilation,
        out=out,
        torch_out=torch_out,
        windows=tuple(listed),
        windows_total=max(out, 0),
        unreached=unreached,
        unreached_input=lost,
        unread=coverage.unread or (),
        unread_text=coverage.text() if coverage.unread else "",
        formula=formula,
        note=note,
    )


def adaptive_diagram(
    title: str, axis: str, size: int, out: int, *, torch_out: int | None = None, formula: str = ""
) -> AxisDiagram:
    """One axis of an adaptive pool: window i reads [⌊i·in/out⌋, ⌈(i+1)·in/out⌉)."""
    listed = []
    for i in range(min(out, MAX_WINDOWS_LISTED)):
        start, end = (i * size) // out, -((-(i + 1) * size) // out)
        listed.append(AxisWindow(i, start, end, tuple(range(start, end))))
    return AxisDiagram(
        title=title,
        axis=axis,
        size=size,
        kernel_size=0,
        stride=None,
        dilation=1,
        out=out,
        torch_out=torch_out,
        windows=tuple(listed),
        windows_total=out,
        formula=formula,
        note="adaptive: each window its own start ⌊i·in/out⌋ and end ⌈(i+1)·in/out⌉",
    )


def transposed_diagram(
    title: str,
    axis: str,
    size: int,
    kernel: int,
    stride: int,
    padding: int,
    dilation: int,
    output_padding: int,
    *,
    torch_out: int | None = None,
    formula: str = "",
) -> AxisDiagram:
    """One axis of a transposed convolution, in output positions: where each input position
    writes (a window), the positions padding crops, and the cells output_padding adds."""
    full = (size - 1) * stride + dilation * (kernel - 1) + 1  # before cropping
    out = transposed_out(size, kernel, stride, padding, dilation, output_padding)
    return AxisDiagram(
        title=title,
        axis=axis,
        transposed=True,
        size=out,
        pad_before=padding,
        pad_after=max(0, full - padding - out),
        kernel_size=kernel,
        stride=stride,
        dilation=dilation,
        out=out,
        torch_out=torch_out,
        windows=tuple(
            _window(i, padding, kernel, stride, dilation) for i in range(min(size, MAX_WINDOWS_LISTED))
        ),
        windows_total=size,
        output_padding=(out - output_padding, out) if output_padding else None,
        formula=formula,
        note=f"each of the {size} input positions writes one window of the output",
    )


def pick_axis(diagrams: list[AxisDiagram]) -> AxisDiagram:
    """The axis with the most to show (unreached input, a ceil_mode window, output_padding,
    uneven padding), else the last one."""
    for d in diagrams:
        extra = any(w.extra for w in d.windows)
        if d.unread or extra or d.output_padding or d.pad_before != d.pad_after:
            return d
    return diagrams[-1]
