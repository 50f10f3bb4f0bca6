"""The embedding family as the core sees it: its hooks live in its folder (``FolderFamily``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from torchshape.families.base import FolderFamily

FAMILY = FolderFamily("embedding")

if TYPE_CHECKING:  # the contract: mypy checks each module of the folder against its role (Folder's order)
    from torchshape.families.contract import Folder, LayerAdapter
    from torchshape.families.embedding import adapter as layer_adapter
    from torchshape.families.embedding import counts, present, probe, report, request, snippet, torch_side
    from torchshape.families.embedding import spec as written

    Folder(request, written, counts, counts, probe, report, torch_side, present, snippet, None, None)
    adapter: LayerAdapter = layer_adapter  # the layers it claims inside a model
