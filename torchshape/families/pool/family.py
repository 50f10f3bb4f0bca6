"""The pool family as the core sees it: its hooks live in its folder (``FolderFamily``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from torchshape.families.base import FolderFamily

FAMILY = FolderFamily("pool")

if TYPE_CHECKING:  # the contract: mypy checks each module of the folder against its role (Folder's order)
    from torchshape.families.contract import Folder, LayerAdapter
    from torchshape.families.pool import adapter as layer_adapter
    from torchshape.families.pool import counts, present, probe, report, request, snippet, torch_side
    from torchshape.families.pool import spec as written
    from torchshape.families.pool.present import diagram

    Folder(request, written, counts, counts, probe, report, torch_side, present, snippet, diagram, None)
    adapter: LayerAdapter = layer_adapter  # the layers it claims inside a model
