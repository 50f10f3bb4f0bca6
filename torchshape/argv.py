"""The words of a command line, checked before the parser sees them.

The parser's own messages for some mistakes name no flag ("Got unexpected extra
argument(s) (2)"), and it takes a flag as the value of the flag before it
(``--hidden-size --layers 2``). ``first_problem`` finds those mistakes first and says
which flag is at fault or what to type instead. No torch, no click: plain words.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Options that act as soon as they are read: what follows them is not looked at.
EAGER = ("-h", "--help", "--version")


@dataclass(frozen=True)
class Options:
    """The options of one command (or of ``torchshape`` itself), by how they are typed."""

    values: frozenset[str]  # take a value: --kind, --layers, --num-layers, ...
    switches: frozenset[str]  # take none: --bidir, --help, -h, ...
    positionals: int = 0  # words the command takes without a flag (torchshape model TARGET)

    def known(self, word: str) -> bool:
        return word in self.values or word in self.switches


def _is_number(word: str) -> bool:
    return re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|nan)", word, re.I) is not None


def _looks_like_a_flag(word: str, options: Options) -> bool:
    """A word that is an option, not a value: ``--layers``, ``--foo``, ``-h`` (not ``-4``)."""
    return word.startswith("--") or (word.startswith("-") and options.known(word))


def _unknown(word: str, options: Options, where: str) -> str:
    """``--hiden-size: no such option; did you mean --hidden-size?``"""
    name = word.partition("=")[0]
    candidates = sorted(o for o in options.values | options.switches if o.startswith("--"))
    typed = name.replace("_", "-").lower()  # --hidden_size, PyTorch's spelling
    prefixed = [o for o in candidates if len(typed) > 3 and o.startswith(typed)]
    close = prefixed if len(prefixed) == 1 else difflib.get_close_matches(typed, candidates, n=1, cutoff=0.7)
    if close:
        return f"{name}: no such option; did you mean {close[0]}?"
    return f"{name}: no such option; {where} --help lists them"


def _stray(word: str, before: str | None, options: Options, kinds: frozenset[str], command: str) -> str:
    """A word that is neither an option nor an option's value."""
    if word.lower() in kinds:
        return f"unexpected word {word!r}; to choose the module, type --kind {word.lower()}"
    if before is not None and before in options.switches:
        return f"{before}: takes no value, so {word!r} is left over; drop it"
    return (
        f"unexpected word {word!r}; torchshape {command} takes flags only (see torchshape {command} --help)"
    )


def first_problem(
    args: Sequence[str],
    root: Options,
    commands: Mapping[str, Options],
    kinds: Mapping[str, frozenset[str]] | None = None,
) -> str | None:
    """The first mistake in ``torchshape ARGS`` that the parser would word badly, or None.

    ``kinds``: each command's --kind choices, so that a stray ``lstm`` gets ``--kind lstm``.

    As in the parser, an unknown option or a missing value is an error where it stands,
    while ``-h``/``--help`` wins over a stray word anywhere.
    """
    words = list(args)
    i = 0
    while i < len(words) and words[i].startswith("-") and words[i] != "--":
        if words[i] in EAGER:
            return None
        if not root.known(words[i]):
            return _unknown(words[i], root, "torchshape")
        i += 1
    if i == len(words):
        return None  # --version alone; or nothing, which the command line turns into --help
    kinds = kinds or {}
    command = words[i]
    if command not in commands:
        return _not_a_command(command, commands, kinds)
    return _command_problem(command, words[i + 1 :], commands[command], kinds.get(command, frozenset()))


def _not_a_command(command: str, commands: Mapping[str, Options], kinds: Mapping[str, frozenset[str]]) -> str:
    """``lstm`` typed where a command goes: the command whose --kind it is, or the commands."""
    for owner, choices in kinds.items():
        if command.lower() in choices:
            return f"{command!r} is not a command; type torchshape {owner} --kind {command.lower()}"
    listed = ", ".join(commands)
    return f"{command!r} is not a command; the commands are {listed} (torchshape --help lists them)"


def _command_problem(command: str, rest: list[str], options: Options, kinds: frozenset[str]) -> str | None:
    """The first mistake in the words after ``torchshape COMMAND``, or None."""
    j = 0
    before: str | None = None  # the option just before, to blame a switch for a stray value
    positionals = options.positionals  # words still to be taken as the command's arguments
    stray: str | None = None  # the first stray word's message: a later --help still wins
    while j < len(rest):
        word = rest[j]
        if word == "--":  # what follows is the command's arguments (torchshape expr -- "-a")
            extra = rest[j + 1 + positionals : j + 2 + positionals]  # a word more than the command takes
            if extra and stray is None:
                where = f"torchshape {command}"
                return f"unexpected word {extra[0]!r} after --; {where} takes flags only, drop the --"
            return stray
        name, equals, _ = word.partition("=")
        if word in EAGER:
            return None
        if word.startswith("--") or (word.startswith("-") and not _is_number(word) and len(word) > 1):
            problem = _flag_problem(word, rest[j + 1] if j + 1 < len(rest) else None, options, command)
            if problem is not None:
                return problem
            if name in options.values and not equals:
                j += 1  # its value
        elif positionals:
            positionals -= 1
        elif stray is None:
            stray = _stray(word, before, options, kinds, command)
        j += 1
        before = name if name in options.switches else None
    return stray


def _flag_problem(word: str, following: str | None, options: Options, command: str) -> str | None:
    """What is wrong with the flag ``word``, or None; ``following``: the word after it (None: none)."""
    name, equals, _ = word.partition("=")
    if name in options.switches:
        return f"{name}: a switch takes no value; type {name} alone" if equals else None
    if name not in options.values:
        return _unknown(word, options, f"torchshape {command}")
    if equals:
        return None
    if following is None:
        return f"{name}: needs a value; none was given"
    if _looks_like_a_flag(following, options):
        return f"{name}: needs a value; got the flag {following}"
    return None
