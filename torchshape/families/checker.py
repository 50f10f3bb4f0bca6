"""What every family's ``make_spec`` checks the same way: whole numbers, switches, choices, the
device and the dtype, each refusal a ``UsageError`` naming the flag or the Python argument.

A family's checker subclasses ``Checker`` and adds its own rules (``spec()``); its request module
says ``make_spec = TheChecker.make_spec``. Raw settings come from the command line (text, with
``names=FLAGS``) or from Python (values; messages name the arguments), and every refusal torch
would make at build or forward time is made first, so a bad value never reaches torch. No torch here.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from enum import Enum
from typing import Any, ClassVar, Generic, TypeVar

from torchshape.errors import UsageError
from torchshape.families.spatial import MAX_SIZE, dims_flag, items_of
from torchshape.options import DEVICE_PATTERN, DType

E = TypeVar("E", bound=Enum)
S = TypeVar("S")  # the family's spec
T = TypeVar("T")
_WHOLE = re.compile(r"[+-]?\d{1,30}")


def speaks_python(names: Mapping[str, str]) -> bool:
    """Whether ``names`` are Python's (each setting by its own name), not the command line's flags."""
    return all(name == field for field, name in names.items())


class Checker(Generic[S]):
    """Raw settings (text from the command line, values from Python; None: not given) checked one
    at a time; missing ones take the class's ``DEFAULTS``, an unknown one is a TypeError.
    ``names`` says what messages call each setting (None: Python's names, the fields').
    Each setting checked is kept in ``checked`` under its name, and ``made`` builds the spec of them."""

    DEFAULTS: ClassVar[Mapping[str, Any]] = {}  # a family's checker names its defaults here

    def __init__(self, names: Mapping[str, str] | None, raw: Mapping[str, Any]) -> None:
        defaults = self.DEFAULTS
        unknown = set(raw) - set(defaults)
        if unknown:
            raise TypeError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        self.names = names if names is not None else {field: field for field in defaults}
        self.raw = raw
        self.python = speaks_python(self.names)
        self.values = {**defaults, **{k: v for k, v in raw.items() if v is not None}}
        self.checked: dict[str, Any] = {}

    @classmethod
    def make_spec(cls, *, names: Mapping[str, str] | None = None, **raw: Any) -> S:
        """Validate raw settings (None or missing: the default) into the spec; a bad one is a
        ``UsageError`` naming it as ``names`` say (``FLAGS`` on the command line, Python's names
        by default)."""
        return cls(names, raw).spec()

    def spec(self) -> S:
        """The family's rules, in the order its messages come."""
        raise NotImplementedError

    def keep(self, field: str, value: T) -> T:
        """``value``, kept as the checked ``field``."""
        self.checked[field] = value
        return value

    def made(self, spec: type[S], **values: Any) -> S:
        """The spec of the settings checked (those that are its fields), ``values`` over them."""
        fields = {f.name for f in dataclasses.fields(spec)}  # type: ignore[arg-type]
        return spec(**{k: v for k, v in self.checked.items() if k in fields} | values)

    def n(self, field: str) -> str:
        """What the user calls ``field``: ``--kernel-size`` or ``kernel_size``."""
        return self.names[field]

    def given(self, field: str) -> bool:
        return self.raw.get(field) is not None

    def value(self, field: str) -> Any:
        """The setting as given, or its default."""
        return self.values[field]

    def error(self, field: str, message: str) -> UsageError:
        """A refusal naming ``field``; from Python, with the value as it was passed."""
        name = self.n(field)
        shown = f"{name}={self.raw[field]!r}" if self.python and self.raw.get(field) is not None else None
        return UsageError(name, message, shown=shown)

    def say(self, field: str, value: Any) -> str:
        """A setting as the caller writes it: ``--kind max`` or ``kind='max'``."""
        return f"{field}={value!r}" if self.python else f"{self.n(field)} {value}"

    def whole(
        self, field: str, *, minimum: int = 1, maximum: int = MAX_SIZE, value: Any = None, default: Any = None
    ) -> int:
        """A whole number from ``minimum`` to ``maximum``: an int, or its digits as text. ``value``
        stands for the setting's; ``default`` for a setting not given that has no default of its own."""
        value = self.values[field] if value is None else value
        value = default if value is None else value
        text = str(value).strip()
        if isinstance(value, bool) or not (isinstance(value, int) or _WHOLE.fullmatch(text)):
            raise self.error(field, f"{value!r} is not a whole number; use one from {minimum} to {maximum}")
        number = int(text)
        if not minimum <= number <= maximum:
            raise self.error(
                field, f"{number} is out of range; use a whole number from {minimum} to {maximum}"
            )
        return self.keep(field, number)

    def positive(self, field: str, value: Any, use: str, *, use_number: str | None = None) -> float:
        """A positive finite number (an int, float or its text); ``use`` ends the refusal of one that
        is not positive or finite, ``use_number`` (or ``use``) that of one that is no number at all."""
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise self.error(field, f"{value!r} is not a number; {use_number or use}") from None
        if isinstance(value, bool) or not (math.isfinite(number) and number > 0):
            raise self.error(field, f"{value!r} is not a positive finite number; {use}")
        return self.keep(field, number)

    def numbers(
        self,
        field: str,
        value: Any,
        *,
        minimum: int,
        most: int,
        example: str,
        empty: bool = False,
        fewest: int = 0,
    ) -> tuple[int, ...]:
        """From ``fewest`` to ``most`` whole numbers from ``minimum`` to MAX_SIZE: ``4,7`` on the
        command line (``()`` for none, where ``empty``), a tuple or list (or an int) in Python."""
        items = items_of(value, empty=empty)
        if len(items) > most:
            raise self.error(field, f"{len(items)} values; give at most {most}")
        if len(items) < fewest:
            raise self.error(field, f"no values; give at least {fewest}, such as 16")
        found = []
        for item in items:
            if isinstance(item, bool) or not (
                isinstance(item, int) or (isinstance(item, str) and _WHOLE.fullmatch(item))
            ):
                raise self.error(
                    field, f"{item!r} is not a whole number; give whole numbers such as {example}"
                )
            number = int(item)
            if not minimum <= number <= MAX_SIZE:
                raise self.error(
                    field, f"{number} is out of range; use whole numbers from {minimum} to {MAX_SIZE}"
                )
            found.append(number)
        return self.keep(field, tuple(found))

    def probability(self, field: str, *, example: str) -> float:
        """A probability in [0, 1) (dropout): a number, not True or False."""
        value = self.values[field]
        try:
            number: float | None = float(value)
        except (TypeError, ValueError):
            number = None
        if number is None or isinstance(value, bool):
            raise self.error(field, f"{value!r} is not a number; use a probability in [0, 1)")
        if not (math.isfinite(number) and 0.0 <= number < 1.0):
            raise self.error(field, f"{number:g} is outside [0, 1); use a probability such as {example}")
        return self.keep(field, number)

    def divisible(self, field: str, by: str, why: str, *, offer: str, most: int, shown: int) -> None:
        """Refuse ``field``'s number where ``by``'s does not divide it (heads of attention), ``why``
        after the refusal; the divisors up to ``most`` (the last ``shown``) offered as ``offer``."""
        number, divisor = self.checked[field], self.checked[by]
        if number % divisor:
            fits = [d for d in range(1, min(number, most) + 1) if number % d == 0][-shown:]
            raise self.error(
                field,
                f"{number} is not divisible by {self.n(by)} {divisor}{why}; "
                f"{offer} that divide {number}: {', '.join(map(str, fits))}",
            )

    def switch(self, field: str) -> bool:
        value = self.values[field]
        if not isinstance(value, bool):
            raise self.error(field, f"{value!r} is not True or False")
        return self.keep(field, value)

    def choice(self, field: str, kind: type[E]) -> E:
        """One of the enum's values, in any case."""
        value = self.values[field]
        try:
            return self.keep(field, value if isinstance(value, kind) else kind(str(value).strip().lower()))
        except ValueError:
            allowed = ", ".join(str(member.value) for member in kind)
            raise self.error(field, f"{value!r} is not one of {allowed}") from None

    def dims(self) -> int:
        """``dims``: 1, 2 or 3 spatial dimensions."""
        try:
            return self.keep("dims", dims_flag(self.values["dims"], self.n("dims")))
        except UsageError as error:
            raise self.error("dims", error.message.removeprefix(f"{error.option}: ")) from None

    def device(self, *, refusal: str = "is not a device; use") -> str:
        """cpu, cuda, cuda:N, mps or meta, in any case; ``refusal`` words a refusal before that list
        (``model``'s: "'tpu' is not cpu, cuda, cuda:N, mps or meta")."""
        device = str(self.values["device"]).strip().lower()
        if not DEVICE_PATTERN.match(device):
            raise self.error("device", f"{self.values['device']!r} {refusal} cpu, cuda, cuda:N, mps or meta")
        return self.keep("device", device)

    def dtype(self) -> DType:
        return self.choice("dtype", DType)

    def batch(self, unbatched: bool) -> int:
        """N, refused beside ``unbatched``: that input has none."""
        if unbatched and self.given("batch"):
            raise self.error(
                "batch",
                f"unbatched input has no batch dimension; drop {self.n('batch')} or {self.n('unbatched')}",
            )
        return self.whole("batch")
