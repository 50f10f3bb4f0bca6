"""``make_spec``: a pool's settings checked into a ``PoolSpec`` by torch's own rules
(tests/test_pool_against_torch.py checks them against torch). No torch here."""

from __future__ import annotations

import re
from typing import Any

from torchshape.errors import UsageError
from torchshape.families.checker import Checker
from torchshape.families.pool.spec import (
    DEFAULT_OUTPUT_SIZE,
    DEFAULT_SIZE,
    DEFAULTS,
    KIND_SETTINGS,
    Kind,
    PoolSpec,
)
from torchshape.families.spatial import Window, axes, per_axis

# The settings only some kinds take; the others belong to the input or the run.
KIND_ONLY: tuple[str, ...] = ("kernel_size", "stride", "padding", "dilation", "ceil_mode")
KIND_ONLY += ("count_include_pad", "return_indices", "norm_type", "output_size")


def _is_given(field: str, value: Any) -> bool:
    """None is "not given"; so is False for a switch (the command line passes None or True),
    except --no-count-include-pad, whose False is a choice."""
    return value is not None and (value is not False or field == "count_include_pad")


class _Check(Checker[PoolSpec]):
    DEFAULTS = DEFAULTS

    def axes_of(self, field: str, dims: int, default: Any, *, minimum: int = 1) -> tuple[int, ...]:
        value = self.raw.get(field)
        try:
            return self.keep(
                field, per_axis(self.n(field), default if value is None else value, dims, minimum=minimum)
            )
        except UsageError as error:
            message = error.message.removeprefix(f"{error.option}: ")
            if self.python:
                message = re.sub(r"--dims (\d)", r"dims=\1", message)
            raise self.error(field, message) from None

    def spec(self) -> PoolSpec:
        raw = self.raw
        kind = self.choice("kind", Kind)
        dims = self.dims()

        # a setting this kind does not take is refused, not silently ignored
        for field in KIND_ONLY:
            if _is_given(field, raw.get(field)) and field not in KIND_SETTINGS[kind]:
                raise self.error(field, self._not_for(field, kind, dims))

        self.whole("channels")
        size = self.axes_of("size", dims, DEFAULT_SIZE[dims])
        self.batch(self.keep("unbatched", bool(raw.get("unbatched"))))

        kernel: tuple[int, ...] = ()
        stride: tuple[int, ...] = ()
        padding: tuple[int, ...] = (0,) * dims
        dilation: tuple[int, ...] = (1,) * dims
        output_size: tuple[int, ...] = ()
        output_size_none: tuple[bool, ...] = ()
        norm_type = float(DEFAULTS["norm_type"])
        if kind.adaptive:
            output_size, output_size_none = self._output_size(dims, size)
        else:
            kernel = self.axes_of("kernel_size", dims, DEFAULTS["kernel_size"])
            stride = kernel if raw.get("stride") is None else self.axes_of("stride", dims, None)
            if kind is not Kind.LP:
                padding = self.axes_of("padding", dims, DEFAULTS["padding"], minimum=0)
            if kind is Kind.MAX:
                dilation = self.axes_of("dilation", dims, DEFAULTS["dilation"])
            if kind is Kind.LP:
                norm_type = self._norm_type()
            self._check_padding(kind, dims, kernel, padding)
        ceil_mode = bool(raw.get("ceil_mode"))
        if not kind.adaptive:
            self._check_fits(kind, dims, size, kernel, stride, padding, dilation, ceil_mode)

        self.device()
        self.dtype()
        count_include_pad = raw.get("count_include_pad")
        return self.made(
            PoolSpec,
            kernel_size=kernel,
            stride=stride,
            padding=padding,
            dilation=dilation,
            ceil_mode=ceil_mode,
            count_include_pad=True if count_include_pad is None else bool(count_include_pad),
            return_indices=bool(raw.get("return_indices")),
            norm_type=norm_type,
            output_size=output_size,
            output_size_none=output_size_none if any(output_size_none) else (),
        )

    def _output_size(self, dims: int, size: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[bool, ...]]:
        """output_size per axis; None on an axis (``--output-size None,7``) keeps the input's size
        there, as torch does. Returns the sizes, None resolved, and which axes were None."""
        value = self.raw.get("output_size")
        if isinstance(value, (tuple, list)):
            items: list[Any] = list(value)
        elif value is None or isinstance(value, int):
            items = [value]
        else:
            items = [item.strip() for item in str(value).split(",")]
        nones = [item is None or (isinstance(item, str) and item.lower() == "none") for item in items]
        if value is None or not any(nones):
            return self.axes_of("output_size", dims, DEFAULT_OUTPUT_SIZE[dims]), (False,) * dims
        if dims == 1:
            raise self.error(
                "output_size",
                "None keeps the input's size on an axis of a 2-d or 3-d adaptive pool; "
                "a 1-d one takes a number",
            )
        if len(items) == 1:
            nones, items = nones * dims, items * dims
        if len(items) != dims:
            raise self.error(
                "output_size",
                f"{len(items)} values for {self.say('dims', dims)}; give one for every axis "
                f"({', '.join(axes(dims))}), None where the output keeps the input's size",
            )
        sizes = []
        for i, (item, none) in enumerate(zip(items, nones, strict=True)):
            if none:
                sizes.append(size[i])
                continue
            try:
                sizes.append(per_axis(self.n("output_size"), item, 1)[0])
            except UsageError as error:
                message = error.message.removeprefix(f"{error.option}: ")
                raise self.error("output_size", message.replace("such as 3,5", "such as None,7")) from None
        return tuple(sizes), tuple(nones)

    def _not_for(self, field: str, kind: Kind, dims: int) -> str:
        module = f"nn.{kind.module_name(dims)}"
        takers = [k.value for k in Kind if field in KIND_SETTINGS[k]]
        which = " and ".join(self.say("kind", taker) for taker in takers)
        only = f"only {which} {'takes' if len(takers) == 1 else 'take'} it"
        if field == "kernel_size" or (field in ("stride", "padding", "ceil_mode") and kind.adaptive):
            return f"{module} has no {field}: an adaptive pool takes {self.n('output_size')} instead"
        if field == "output_size":
            return f"{module} takes a kernel ({self.n('kernel_size')}), not an output size; {only}"
        return f"{module} has no {field}; {only}"

    def _norm_type(self) -> float:
        value = self.value("norm_type")
        return self.positive("norm_type", value, "use p > 0, such as 2")

    def _check_padding(
        self, kind: Kind, dims: int, kernel: tuple[int, ...], padding: tuple[int, ...]
    ) -> None:
        """torch: "pad should be at most half of effective kernel size" (MaxPool: of kernel_size)."""
        for axis, k, p in zip(axes(dims), kernel, padding, strict=True):
            if p > k // 2:
                where = f" on {axis}" if dims > 1 else ""
                raise self.error(
                    "padding",
                    f"{p}{where} is more than half of kernel_size {k}; a pool pads at most "
                    f"kernel_size // 2 = {k // 2} on each side (torch: pad should be at most half of "
                    "kernel size)",
                )

    def _check_fits(
        self,
        kind: Kind,
        dims: int,
        size: tuple[int, ...],
        kernel: tuple[int, ...],
        stride: tuple[int, ...],
        padding: tuple[int, ...],
        dilation: tuple[int, ...],
        ceil_mode: bool,
    ) -> None:
        """A window larger than the padded input leaves no output: torch refuses it."""
        for i, axis in enumerate(axes(dims)):
            window = Window(axis, size[i], kernel[i], stride[i], padding[i], dilation[i], ceil_mode)
            where = f" on {axis}" if dims > 1 else ""
            if kind in (Kind.AVG, Kind.LP) and dims == 3 and size[i] < kernel[i]:
                # avg_pool3d (and LPPool3d, built on it) also refuses an input smaller than its kernel
                raise self.error(
                    "kernel_size",
                    f"kernel_size {kernel[i]}{where} is larger than the input {axis}_in = {size[i]}; "
                    f"nn.{kind.module_name(dims)} refuses that even with padding or ceil_mode "
                    f"(torch: input image smaller than kernel size); the smallest {self.n('size')} "
                    f"that works on {axis} is {max(kernel[i], smallest_size(window))}",
                )
            if window.out >= 1:
                continue
            smallest = smallest_size(window)
            reach = f"kernel_size {window.kernel}"
            if window.dilation > 1:
                reach = f"the window (dilation·(kernel_size − 1) + 1 = {window.span})"
            raise self.error(
                "kernel_size",
                f"{reach}{where} is larger than the padded input "
                f"{axis}_in + 2·padding = {window.padded}, so there is no output; "
                f"the smallest {self.n('size')} that works on {axis} is {smallest}",
            )


def smallest_size(window: Window) -> int:
    """The smallest input size on this axis that gives at least one output."""
    extra = window.stride - 1 if window.ceil_mode else 0
    return max(1, window.span - 2 * window.padding - extra)


make_spec = _Check.make_spec
