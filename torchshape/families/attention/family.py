"""The attention family as the core sees it: its hooks live in its folder (``FolderFamily``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from torchshape.families.base import FolderFamily

FAMILY = FolderFamily("attention")

if TYPE_CHECKING:  # the contract: mypy checks each module of the folder against its role (Folder's order)
    from torchshape.families.attention import adapter as layer_adapter
    from torchshape.families.attention import counts, present, probe, report, request, snippet, torch_side
    from torchshape.families.attention import spec as written
    from torchshape.families.attention.present import diagram
    from torchshape.families.contract import Folder, LayerAdapter

    Folder(request, written, counts, counts, probe, report, torch_side, present, snippet, diagram, None)
    adapter: LayerAdapter = layer_adapter  # the layers it claims inside a model
