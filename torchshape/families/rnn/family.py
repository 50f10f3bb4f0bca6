"""The recurrent family as the core sees it: its hooks live in its folder (``FolderFamily``)."""

from __future__ import annotations

from torchshape.families.base import FolderFamily
from torchshape.families.rnn.spec import RNNSpec


class RNNFamily(FolderFamily):
    name = "rnn"

    def check_addressable(self, spec: RNNSpec) -> None:
        from torchshape.families.rnn.limits import check_addressable

        check_addressable(spec)


FAMILY = RNNFamily()
