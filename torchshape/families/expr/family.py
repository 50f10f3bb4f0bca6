"""The expr family as the core sees it: its hooks live in its folder (``FolderFamily``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from torchshape.families.base import FolderFamily

FAMILY = FolderFamily("expr")

if TYPE_CHECKING:  # the contract: mypy checks each module of the folder against its role (Folder's order)
    from torchshape.families.contract import Folder
    from torchshape.families.expr import counts, present, probe, report, snippet, spec, torch_side

    Folder(None, spec, counts, counts, probe, report, torch_side, present, snippet, None, None)
