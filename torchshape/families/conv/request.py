"""``make_spec``: a convolution's settings checked into a ``ConvSpec``, each refusal torch would
make at build or forward time made here first (``checker.Checker``). No torch here."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from torchshape.errors import UsageError
from torchshape.families.checker import Checker
from torchshape.families.conv.formulas import out_size, pads
from torchshape.families.conv.spec import DEFAULT_SIZES, DEFAULTS, ConvSpec, PaddingMode
from torchshape.families.spatial import per_axis, transposed_out


class _Checker(Checker[ConvSpec]):
    DEFAULTS = DEFAULTS

    def axes(self, field: str, dims: int, minimum: int = 1, value: Any = None) -> tuple[int, ...]:
        try:
            axes = per_axis(
                self.n(field), self.values[field] if value is None else value, dims, minimum=minimum
            )
            return self.keep(field, axes)
        except UsageError as error:
            body = error.message.removeprefix(f"{error.option}: ").replace("--dims", self.n("dims"))
            raise self.error(field, body) from None

    def spec(self) -> ConvSpec:
        v = self.values
        dims = self.dims()
        for field in ("in_channels", "out_channels", "groups"):
            self.whole(field)
        transposed = self.switch("transposed")
        for field in ("kernel_size", "stride", "dilation"):
            self.axes(field, dims)
        self._padding(dims, transposed)
        self._output_padding(dims, transposed)
        self.axes("size", dims, value=v["size"] if v["size"] is not None else DEFAULT_SIZES[dims])
        output_size = self._output_size(dims, transposed)
        self._padding_mode(transposed)
        self.batch(self.switch("unbatched"))
        self.device()
        self.dtype()
        spec = self.made(ConvSpec, bias=self.switch("bias"))
        if output_size is not None:
            spec = replace(
                spec, output_size=output_size, output_padding=self._by_output_size(spec, output_size)
            )
        self._combinations(spec)
        return spec

    def _output_size(self, dims: int, transposed: bool) -> tuple[int, ...] | None:
        if self.values["output_size"] is None:
            return None
        if not transposed:
            raise self.error(
                "output_size",
                f"only a ConvTranspose's forward takes output_size; add {self.n('transposed')} or drop it",
            )
        if self.values["output_padding"] is not None:
            raise self.error(
                "output_size",
                f"give it or {self.n('output_padding')}, not both: with output_size, torch's forward "
                "works output_padding out itself and ignores the module's",
            )
        return self.axes("output_size", dims)

    def _by_output_size(self, spec: ConvSpec, output_size: tuple[int, ...]) -> tuple[int, ...]:
        """The output_padding torch derives from output_size, after checking it is in torch's range:
        from the size without output_padding to stride − 1 more."""
        padding = []
        for i, axis in enumerate(spec.axes):
            s = spec.stride[i]
            base = transposed_out(
                spec.size[i], spec.kernel_size[i], s, spec.int_padding[i], spec.dilation[i], 0
            )
            if not base <= output_size[i] <= base + s - 1:
                allowed = f"{base}" if s == 1 else f"{base} to {base + s - 1}"
                raise self.error(
                    "output_size",
                    f"{output_size[i]} on axis {axis} is not a size this ConvTranspose can give: "
                    f"torch's forward accepts {allowed} there ({axis}_in = {spec.size[i]}, stride {s})",
                )
            padding.append(output_size[i] - base)
        return tuple(padding)

    def _padding(self, dims: int, transposed: bool) -> tuple[int, ...] | str:
        value = self.values["padding"]
        if isinstance(value, str) and value.strip().lower() in ("same", "valid"):
            word = value.strip().lower()
            if transposed:
                raise self.error(
                    "padding",
                    f"{word!r} is for Conv only: ConvTranspose takes whole numbers "
                    "(torch refuses a string there); use 0 or more",
                )
            return self.keep("padding", word)
        return self.axes("padding", dims, minimum=0)

    def _output_padding(self, dims: int, transposed: bool) -> tuple[int, ...]:
        given = self.values["output_padding"]
        if given is None:
            return self.keep("output_padding", (0,) * dims)
        if not transposed:
            raise self.error(
                "output_padding",
                f"only a ConvTranspose has output_padding; add {self.n('transposed')} or drop it",
            )
        return self.axes("output_padding", dims, minimum=0)

    def _padding_mode(self, transposed: bool) -> PaddingMode:
        mode = self.choice("padding_mode", PaddingMode)
        if transposed and mode is not PaddingMode.ZEROS:
            raise self.error(
                "padding_mode",
                f"{mode.value!r}: torch's ConvTranspose accepts only 'zeros' "
                '(Only "zeros" padding mode is supported)',
            )
        return mode

    def _combinations(self, spec: ConvSpec) -> None:
        """What torch refuses at build or forward time, refused here first."""
        for field, channels in (("in_channels", spec.in_channels), ("out_channels", spec.out_channels)):
            if channels % spec.groups:
                fits = [
                    g
                    for g in range(1, min(spec.in_channels, spec.out_channels) + 1)
                    if spec.in_channels % g == 0 and spec.out_channels % g == 0
                ]
                raise self.error(
                    field,
                    f"{channels} is not divisible by {self.n('groups')} {spec.groups} "
                    f"({field} must be divisible by groups); groups that divide both "
                    f"{spec.in_channels} and {spec.out_channels}: {', '.join(map(str, fits[-6:]))}",
                )
        if spec.padding == "same" and any(s > 1 for s in spec.stride):
            raise self.error(
                "padding",
                f"'same' needs {self.n('stride')} 1 on every axis: torch says \"padding='same' is not "
                'supported for strided convolutions"; give padding as a number instead',
            )
        if spec.transposed:
            for i, (op, s, d) in enumerate(zip(spec.output_padding, spec.stride, spec.dilation, strict=True)):
                if op >= s and op >= d:
                    raise self.error(
                        "output_padding",
                        f"{op} on axis {spec.axes[i]} must be smaller than either stride ({s}) or "
                        f"dilation ({d}), as torch requires; use at most {max(s, d) - 1}",
                    )
        self._fits(spec)
        self._padding_fits(spec)

    def _fits(self, spec: ConvSpec) -> None:
        """A kernel larger than the padded input (Conv) or an empty output (ConvTranspose)."""
        sizes = out_size(spec)
        for i, axis in enumerate(spec.axes):
            k, d, size = spec.kernel_size[i], spec.dilation[i], spec.size[i]
            span = d * (k - 1) + 1
            if spec.transposed:
                if sizes[i] >= 1:
                    continue
                p, s, op = spec.int_padding[i], spec.stride[i], spec.output_padding[i]
                # (in − 1)·s ≥ 2·p − d·(k − 1) − op: the smallest in that gives at least 1
                need = 2 * p - d * (k - 1) - op
                smallest = 1 + -(-need // s)
                raise self.error(
                    "size",
                    f"{axis}_in = {size} gives {axis}_out = {sizes[i]}: torch refuses an empty output "
                    f'("Output size is too small"); the smallest {self.n("size")} on axis {axis} that works '
                    f"is {smallest} (or use less {self.n('padding')})",
                )
            if spec.padding == "same":
                continue
            p = spec.int_padding[i]
            if size + 2 * p < span:
                smallest = max(1, span - 2 * p)
                raise self.error(
                    "size",
                    f"{axis}_in = {size} padded by 2·{p} is {size + 2 * p}, smaller than the kernel's span "
                    f"dilation·(kernel_size − 1) + 1 = {span}: torch says \"Kernel size can't be greater "
                    f'than actual input size"; the smallest {self.n("size")} on axis {axis} that works '
                    f"is {smallest}",
                )

    def _padding_fits(self, spec: ConvSpec) -> None:
        """reflect pads with a mirror image of the input, circular with a wrapped copy: both need room."""
        if spec.padding_mode not in (PaddingMode.REFLECT, PaddingMode.CIRCULAR):
            return
        for i, (before, after) in enumerate(pads(spec)):
            widest, size = max(before, after), spec.size[i]
            if spec.padding_mode is PaddingMode.REFLECT and widest >= size:
                raise self.error(
                    "size",
                    f"padding_mode 'reflect' pads axis {spec.axes[i]} by {widest}, which must be smaller "
                    f"than the input's size there ({size}); use {self.n('size')} {widest + 1} or more on "
                    "that axis, less padding, or another padding mode",
                )
            if spec.padding_mode is PaddingMode.CIRCULAR and widest > size:
                raise self.error(
                    "size",
                    f"padding_mode 'circular' pads axis {spec.axes[i]} by {widest}, more than the input's "
                    f"size there ({size}): torch refuses to wrap around more than once; use "
                    f"{self.n('size')} {widest} or more on that axis, or less padding",
                )


make_spec = _Checker.make_spec
