"""The model family as the core sees it: its hooks live in its folder (``FolderFamily``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from torchshape.families.base import FolderFamily

FAMILY = FolderFamily("model")

if TYPE_CHECKING:  # the contract: mypy checks each module of the folder against its role (Folder's order)
    from torchshape.families.contract import Folder
    from torchshape.families.model import counts, html, present, probe, report, snippet, spec

    Folder(None, spec, counts, counts, probe, report, None, present, snippet, None, html)
