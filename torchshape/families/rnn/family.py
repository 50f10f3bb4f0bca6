"""The recurrent family as the core sees it: its hooks live in its folder (``FolderFamily``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from torchshape.families.base import FolderFamily


class RNNFamily(FolderFamily):
    LIMITS = "limits"  # check_addressable: the packed and unrolled calls' tensors too

    def check_switches(self, spec: Any, **switches: Any) -> None:
        """--explain and --unroll need a sequence (and --unroll values); --diagram a drawable size."""
        from torchshape.families.rnn.explain import check_options

        check_options(spec, explain=switches.get("explain", False), unroll=switches.get("unroll", False))
        if switches.get("diagram", False):
            from torchshape.families.rnn.diagram import check_diagram

            check_diagram(spec)


FAMILY = RNNFamily("rnn")

if TYPE_CHECKING:  # the contract: mypy checks each module of the folder against its role (Folder's order)
    from torchshape.families.contract import Folder, LayerAdapter
    from torchshape.families.rnn import adapter as layer_adapter
    from torchshape.families.rnn import counts, limits, present, probe, report, request, snippet, torch_side
    from torchshape.families.rnn import spec as written
    from torchshape.families.rnn.present import diagram

    Folder(request, written, counts, limits, probe, report, torch_side, present, snippet, diagram, None)
    adapter: LayerAdapter = layer_adapter  # the layers it claims inside a model
