"""Renderers: a ``Report`` in, text out. Nothing here runs torch."""

from __future__ import annotations

from torchshape.render.json_format import render_json, to_dict
from torchshape.render.table import render_table, table_renderable

__all__ = ["render_json", "render_table", "table_renderable", "to_dict"]
