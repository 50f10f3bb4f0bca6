"""The attention family as the core sees it: its hooks live in its folder (``FolderFamily``)."""

from __future__ import annotations

from torchshape.families.base import FolderFamily


class AttentionFamily(FolderFamily):
    name = "attention"


FAMILY = AttentionFamily()
