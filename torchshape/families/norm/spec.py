"""One normalization layer and the input it is fed, in PyTorch's names: its settings table and
its checked spec. No torch here (``torchshape norm --help`` imports this)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from torchshape import settings
from torchshape.options import DType
from torchshape.settings import Given, Rule, option, pair, switch


class Kind(str, Enum):
    """Which layer: nn.BatchNormNd, LayerNorm, GroupNorm, InstanceNormNd, RMSNorm."""

    BATCH = "batch"
    LAYER = "layer"
    GROUP = "group"
    INSTANCE = "instance"
    RMS = "rms"

    @property
    def channels(self) -> bool:
        """Normalizes an (N, C, *) input by its channels (batch, group, instance)."""
        return self in (Kind.BATCH, Kind.GROUP, Kind.INSTANCE)

    @property
    def last_dims(self) -> bool:
        """Normalizes over the last dimensions, normalized_shape (layer, rms)."""
        return not self.channels


# The settings each kind takes besides eps and the input's (size, batch, unbatched, train).
KIND_SETTINGS: dict[Kind, tuple[str, ...]] = {
    Kind.BATCH: ("dims", "num_features", "affine", "track_running_stats"),
    Kind.INSTANCE: ("dims", "num_features", "affine", "track_running_stats"),
    Kind.GROUP: ("num_groups", "num_features", "affine"),
    Kind.LAYER: ("normalized_shape", "elementwise_affine"),
    Kind.RMS: ("normalized_shape", "elementwise_affine"),
}
# PyTorch's defaults of the constructor's switches, per kind.
AFFINE_DEFAULT = {Kind.BATCH: True, Kind.GROUP: True, Kind.INSTANCE: False}
TRACK_DEFAULT = {Kind.BATCH: True, Kind.INSTANCE: False}
EPS_DEFAULT: dict[Kind, float | None] = {kind: 1e-5 for kind in Kind} | {Kind.RMS: None}  # finfo's eps

# Illustrative defaults: every symbol gets its own number (N 4, C 6, groups 3, H 8, W 9; a layer
# norm's input (4, 7, 16)), so a formula that confused two of them would show it.
DEFAULT_SIZE: dict[int, tuple[int, ...]] = {1: (10,), 2: (8, 9), 3: (5, 8, 9)}
DEFAULT_LEADING: tuple[int, ...] = (7,)  # layer, rms: the dimensions between N and normalized_shape
SETTINGS = settings.table(
    option(
        "kind",
        "--kind",
        "KIND",
        "batch, layer, group, instance or rms (nn.BatchNormNd, LayerNorm, GroupNorm, "
        "InstanceNormNd, RMSNorm).",
        "batch",
    ),
    option(
        "dims",
        "--dims",
        "1|2|3",
        "batch, instance: the N in BatchNormNd / InstanceNormNd. [default: 2]",
        fallback=2,
    ),
    option(
        "num_features",
        ("--num-features", "--num-channels"),
        "INT",
        "C: channels (num_features; GroupNorm's num_channels). [default: 6]",
        fallback=6,
    ),
    option(
        "normalized_shape",
        "--normalized-shape",
        "INT[,INT...]",
        "layer, rms: the input's last dimensions, normalized together. [default: 16]",
        fallback="16",
    ),
    option(
        "num_groups", "--num-groups", "INT", "group: num_groups; it must divide C. [default: 3]", fallback=3
    ),
    option(
        "eps",
        "--eps",
        "FLOAT",
        "eps, added to the variance. [default: 1e-05; rms: None, torch.finfo(dtype).eps]",
    ),
    pair(
        "affine",
        "--affine/--no-affine",
        "batch, group, instance: learnable weight and bias. [default: on; instance: off, as torch]",
    ),
    pair(
        "track_running_stats",
        "--track-running-stats/--no-track-running-stats",
        "batch, instance: keep running_mean and running_var. [default: on; instance: off, as torch]",
    ),
    pair(
        "elementwise_affine",
        "--elementwise-affine/--no-elementwise-affine",
        "layer, rms: a learnable weight (and LayerNorm's bias). [default: on, as torch]",
        fallback=True,
    ),
    option(
        "size",
        "--size",
        "INT[,INT...]",
        "batch, instance, group: the spatial size after (N, C), () for none (batch --dims 1, "
        "group); layer, rms: the dimensions between N and normalized_shape. "
        "[default: 10 | 8,9 | 5,8,9; group: 8,9; layer, rms: 7]",
    ),
    option("batch", ("--batch", "--batch-size"), "INT", "N: inputs per batch.", "4", given=Given.TYPED),
    switch("unbatched", "--unbatched", "Input without N (instance, layer, rms).", given=Given.ON),
    pair(
        "train",
        "--train/--eval",
        "The module's mode: train uses the batch's statistics. [default: train, as torch builds it]",
        fallback=True,
    ),
    explain=(
        "The classic mistakes, each shown on torch: normalized_shape from the front, BatchNorm on "
        "one value per channel, groups that do not divide C, InstanceNorm's defaults."
    ),
)
DEFAULTS: dict[str, Any] = settings.defaults(SETTINGS)


class NormSpec(settings.Spec, family="norm"):
    """One normalization layer and the input it is fed."""

    kind: Kind
    dims: int | None  # batch, instance: 1, 2 or 3; None otherwise
    num_features: int | None  # C: batch, instance, group; None otherwise
    normalized_shape: tuple[int, ...]  # layer, rms; () otherwise
    num_groups: int | None  # group; None otherwise
    eps: float | None  # None: RMSNorm's torch.finfo(dtype).eps
    affine: bool  # batch, instance, group (False for the others)
    track_running_stats: bool  # batch, instance (False for the others)
    elementwise_affine: bool  # layer, rms (False for the others)
    size: tuple[int, ...]  # spatial (batch, instance, group) or leading (layer, rms) dimensions
    batch: int  # ignored when unbatched
    unbatched: bool
    train: bool
    device: str
    dtype: DType

    def has(self, field: str) -> bool:
        return field in KIND_SETTINGS[self.kind]

    @property
    def module_name(self) -> str:
        return {
            Kind.BATCH: f"BatchNorm{self.dims}d",
            Kind.INSTANCE: f"InstanceNorm{self.dims}d",
            Kind.GROUP: "GroupNorm",
            Kind.LAYER: "LayerNorm",
            Kind.RMS: "RMSNorm",
        }[self.kind]

    @property
    def input_shape(self) -> tuple[int, ...]:
        lead = () if self.unbatched else (self.batch,)
        if self.kind.channels:
            assert self.num_features is not None
            return (*lead, self.num_features, *self.size)
        return (*lead, *self.size, *self.normalized_shape)

    @property
    def running_stats_used(self) -> bool:
        """The forward pass normalizes by running_mean and running_var, not the input's statistics."""
        return self.track_running_stats and not self.train

    def as_dict(self) -> dict[str, Any]:
        """JSON's ``config``: the kind, the settings it takes, then the input's, in PyTorch's names."""
        names = ["kind", *KIND_SETTINGS[self.kind], "eps", "size", "batch", "unbatched", "train"]
        return settings.config(self, [*names, "device", "dtype"])

    def module_arguments(self) -> tuple[list[Any], dict[str, Any]]:
        """The constructor's arguments, non-default keywords only (``module_call`` writes them)."""
        kwargs: dict[str, Any] = {}
        if self.eps != EPS_DEFAULT[self.kind]:
            kwargs["eps"] = self.eps
        if self.kind.channels and self.affine != AFFINE_DEFAULT[self.kind]:
            kwargs["affine"] = self.affine
        if self.kind in TRACK_DEFAULT and self.track_running_stats != TRACK_DEFAULT[self.kind]:
            kwargs["track_running_stats"] = self.track_running_stats
        if self.kind.last_dims and not self.elementwise_affine:
            kwargs["elementwise_affine"] = False
        if self.kind is Kind.GROUP:
            return [self.num_groups, self.num_features], kwargs
        if self.kind.channels:
            return [self.num_features], kwargs
        shape = self.normalized_shape
        return [shape[0] if len(shape) == 1 else list(shape)], kwargs

    @property
    def module_call(self) -> str:
        """The constructor call that builds this module, as a user would write it."""
        args, kwargs = self.module_arguments()
        words = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
        return f"nn.{self.module_name}({', '.join(words)})"


def default_size(kind: Kind, dims: int | None) -> tuple[int, ...]:
    """--size when not given: spatial (batch, instance: by --dims; group: 2-d) or leading (layer, rms)."""
    if kind.last_dims:
        return DEFAULT_LEADING
    return DEFAULT_SIZE[dims if dims is not None else 2]


command_line = settings.Command(
    "norm",
    SETTINGS,
    {
        "normalized_shape": Rule(text=settings.listed),
        "eps": Rule(default=lambda spec: EPS_DEFAULT[spec.kind]),
        "affine": Rule(default=lambda spec: AFFINE_DEFAULT[spec.kind]),
        "track_running_stats": Rule(default=lambda spec: TRACK_DEFAULT[spec.kind]),
        "size": Rule(default=lambda spec: default_size(spec.kind, spec.dims), text=settings.listed),
        "batch": settings.BATCHED,
    },
    takes=settings.by_kind(KIND_SETTINGS),
).line
