"""The expr family as the core sees it: its hooks live in its folder (``FolderFamily``)."""

from __future__ import annotations

from torchshape.families.base import FolderFamily


class ExprFamily(FolderFamily):
    name = "expr"


FAMILY = ExprFamily()
