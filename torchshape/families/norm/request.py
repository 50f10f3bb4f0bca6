"""``make_spec``: a normalization layer's settings checked into a ``NormSpec`` by torch's own rules
(tests/test_norm.py checks them against torch). No torch here."""

from __future__ import annotations

from torchshape.families.checker import Checker
from torchshape.families.norm.spec import (
    AFFINE_DEFAULT,
    DEFAULTS,
    EPS_DEFAULT,
    KIND_SETTINGS,
    TRACK_DEFAULT,
    Kind,
    NormSpec,
    default_size,
)

# At most this many dimensions in --size and --normalized-shape.
MAX_DIMS = 8
# The settings only some kinds take (``KIND_SETTINGS``).
KIND_ONLY = ("dims", "num_features", "normalized_shape", "num_groups", "affine", "track_running_stats")


class _Check(Checker[NormSpec]):
    DEFAULTS = DEFAULTS

    def shape(self, field: str, *, minimum_dims: int) -> tuple[int, ...]:
        """Whole numbers: ``8,9`` or ``()`` on the command line, an int, tuple or list in Python."""
        return self.numbers(
            field,
            self.values[field],
            minimum=1,
            most=MAX_DIMS,
            example="8,9",
            empty=True,
            fewest=minimum_dims,
        )

    def pair(self, field: str, default: bool) -> bool:
        value = self.raw.get(field)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(field, f"{value!r} is not True or False")
        return value

    def spec(self) -> NormSpec:
        kind = self.choice("kind", Kind)
        for field in (*KIND_ONLY, "elementwise_affine"):
            if field not in KIND_SETTINGS[kind] and self.given(field):
                takes = [k.value for k in Kind if field in KIND_SETTINGS[k]]
                raise self.error(
                    field, f"{self.say('kind', kind.value)} has no {field}: only {', '.join(takes)} take it"
                )
        dims = self.whole("dims", maximum=3) if kind in (Kind.BATCH, Kind.INSTANCE) else None
        num_features = self.whole("num_features") if kind.channels else None
        num_groups: int | None = None
        if kind is Kind.GROUP:
            num_groups = self.whole("num_groups")
            assert num_features is not None
            if num_features % num_groups:
                raise self.error(
                    "num_groups",
                    f"{num_groups} groups do not divide C = {num_features} (torch: num_channels "
                    f"({num_features}) must be divisible by num_groups ({num_groups}))",
                )
        normalized = self.shape("normalized_shape", minimum_dims=1) if kind.last_dims else ()
        unbatched = bool(self.raw.get("unbatched"))
        if unbatched and kind in (Kind.BATCH, Kind.GROUP):
            raise self.error(
                "unbatched",
                f"nn.{'BatchNorm' if kind is Kind.BATCH else 'GroupNorm'} takes (N, C, *) only: "
                "a (C, *) input is read as N = C",
            )
        if unbatched and self.given("batch"):
            raise self.error(
                "batch", f"an unbatched input has no N; drop {self.n('batch')} or {self.n('unbatched')}"
            )
        self.whole("batch")
        size = self.shape("size", minimum_dims=0) if self.given("size") else default_size(kind, dims)
        self._check_size(kind, dims, size)
        return self.made(
            NormSpec,
            dims=dims,
            num_features=num_features,
            normalized_shape=normalized,
            num_groups=num_groups,
            eps=self._eps(kind),
            affine=self.pair("affine", AFFINE_DEFAULT.get(kind, False)),
            track_running_stats=self.pair("track_running_stats", TRACK_DEFAULT.get(kind, False)),
            elementwise_affine=kind.last_dims and self.pair("elementwise_affine", True),
            size=size,
            unbatched=unbatched,
            train=self.pair("train", True),
            device=self.device(),
            dtype=self.dtype(),
        )

    def _check_size(self, kind: Kind, dims: int | None, size: tuple[int, ...]) -> None:
        if kind is Kind.BATCH and dims == 1:
            if len(size) > 1:
                raise self.error(
                    "size", f"{len(size)} values; BatchNorm1d takes (N, C) or (N, C, L): give L or ()"
                )
        elif dims is not None and len(size) != dims:
            raise self.error(
                "size",
                f"{len(size)} value(s) for {dims}-d: give {dims} (the spatial size of the "
                f"{'Batch' if kind is Kind.BATCH else 'Instance'}Norm{dims}d input)",
            )
        elif kind is Kind.GROUP and len(size) > 3:
            raise self.error("size", f"{len(size)} values; give at most 3 spatial sizes (or () for none)")

    def _eps(self, kind: Kind) -> float | None:
        value = self.raw.get("eps")
        if value is None:
            return EPS_DEFAULT[kind]
        if isinstance(value, str) and value.strip().lower() == "none" and kind is Kind.RMS:
            return None
        return self.positive(
            "eps", value, "use one such as 1e-05", use_number="use a small positive one, such as 1e-05"
        )


make_spec = _Check.make_spec
