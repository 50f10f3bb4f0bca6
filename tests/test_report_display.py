"""A Report shows itself where PyTorch users look: print() and str() the plain table, a rich
console the coloured one, Jupyter an HTML table, repr() one line; the package lists its API."""

from __future__ import annotations

import io
import json
import pydoc
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest
import torch
from rich.console import Console
from torch import nn

import torchshape
from torchshape.families.model.html import OPEN_ROWS
from torchshape.families.model.load import ModelFailed
from torchshape.render import render_json, render_markdown, render_table, to_dict
from torchshape.render.html import render_html

VOID = {"br", "hr", "img", "meta", "input", "link", "wbr", "col", "area", "base", "source"}


class Tags(HTMLParser):
    """Checks every tag closes in order, and collects the table rows' cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None
        self.details = 0
        self.in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        self.open.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = []
        elif tag == "details":
            self.details += 1
        elif tag == "style":
            self.in_style = True

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        assert self.open and self.open[-1] == tag, (self.open, tag)
        self.open.pop()
        if tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append("".join(self.cell).replace("\xa0", " ").strip())
            self.cell = None
        elif tag == "style":
            self.in_style = False

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def parsed(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    tags.close()
    assert tags.open == []
    return tags


def truth(model: nn.Module, x: torch.Tensor) -> dict[str, tuple[int, ...]]:
    """Each module's output shape, from the test's own hooks."""
    found: dict[str, tuple[int, ...]] = {}

    def keep(name: str) -> object:
        def hook(module: nn.Module, args: object, out: torch.Tensor) -> None:
            found.setdefault(name, tuple(out.shape))

        return hook

    handles = [module.register_forward_hook(keep(name)) for name, module in model.named_modules() if name]
    model(x)
    for handle in handles:
        handle.remove()
    return found


def small() -> tuple[nn.Module, torch.Tensor]:
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 5)), torch.randn(
        2, 1, 8, 8
    )


def test_str_and_print_are_the_plain_table(capsys: pytest.CaptureFixture[str]) -> None:
    model, x = small()
    report = torchshape.trace(model, x)
    assert str(report) == render_table(report)
    assert "\x1b[" not in str(report)
    print(report)
    assert capsys.readouterr().out == render_table(report) + "\n"
    for shape in truth(model, x).values():
        assert str(shape) in str(report)


def test_repr_is_one_short_line() -> None:
    model, x = small()
    report = torchshape.trace(model, x)
    params = sum(p.numel() for p in model.parameters())
    assert (
        repr(report)
        == f"<Report model Sequential: {len(list(model.children()))} layers, {params:,} params, ✓>"
    )
    conv = torchshape.inspect_conv(in_channels=3, out_channels=8, kernel_size=3, size=(9, 9))
    torch_params = sum(p.numel() for p in nn.Conv2d(3, 8, 3).parameters())
    assert re.fullmatch(rf"<Report conv nn\.Conv2d\(.*\): 2 tensors, {torch_params:,} params, ✓>", repr(conv))
    assert len(repr(report)) < 100


def test_repr_of_a_failed_trace_says_so() -> None:
    model = nn.Sequential(nn.Linear(4, 8), nn.Linear(7, 2))
    with pytest.raises(ModelFailed) as failed:
        torchshape.trace(model, torch.randn(3, 4))
    report = failed.value.report
    assert repr(report).endswith(", ✗>") and "2 layers" in repr(report)
    html = report._repr_html_()
    assert 'class="bad"' in html and "diagnosis" in html


def test_a_rich_console_shows_the_coloured_table() -> None:
    model, x = small()
    report = torchshape.trace(model, x)
    coloured = Console(file=io.StringIO(), force_terminal=True, color_system="truecolor", width=200)
    coloured.print(report)
    text = coloured.file.getvalue()  # type: ignore[attr-defined]
    assert "\x1b[" in text
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    for shape in truth(model, x).values():
        assert str(shape) in plain
    assert "✓ real forward pass" in plain


def test_html_is_a_table_of_torchs_shapes_with_marks() -> None:
    model, x = small()
    report = torchshape.trace(model, x)
    html = report._repr_html_()
    assert html == render_html(report)
    tags = parsed(html)
    shapes = truth(model, x)
    rows = {row[0]: row for row in tags.rows if row and row[0] in shapes}
    assert set(rows) == set(shapes)
    for name, shape in shapes.items():
        assert rows[name][3] == f"output: {shape}"
        assert rows[name][5] == "✓"
    assert "parameters" in html and "✓ real forward pass" in html
    assert "<details>" not in html  # short: nothing folded


def test_html_folds_a_long_trace_by_depth() -> None:
    blocks = [nn.Sequential(nn.Linear(6, 6), nn.ReLU(), nn.Linear(6, 6)) for _ in range(12)]
    model = nn.Sequential(*blocks)
    report = torchshape.trace(model, torch.randn(2, 6))
    tags = parsed(report._repr_html_())
    assert tags.details == 1
    tables = [row for row in tags.rows if row and row[0] != "layer"]
    calls = 1 + 12 * 4  # the model, each block and its three layers
    outer = 1 + 12  # the model and its blocks
    body_rows = [row for row in tables if len(row) == 7]
    assert len(body_rows) == outer + calls
    assert outer <= OPEN_ROWS < calls


def test_html_escapes_what_it_shows() -> None:
    class Odd(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * 2

    Odd.__name__ = "Odd<b>"
    report = torchshape.trace(Odd(), torch.randn(2, 3))
    assert "<b>" not in report._repr_html_() and "Odd&lt;b&gt;" in report._repr_html_()


def test_html_of_a_family_and_its_drawing() -> None:
    report = torchshape.inspect_conv(
        in_channels=2, out_channels=3, kernel_size=3, stride=1, padding=0, batch=1, size=(7, 7), diagram=True
    )
    html = report._repr_html_()
    tags = parsed(html)
    conv = nn.Conv2d(2, 3, 3)
    out = tuple(conv(torch.randn(1, 2, 7, 7)).shape)
    assert any(row[3] == str(out) and row[4] == "✓" for row in tags.rows if len(row) == 5)
    assert '<div class="drawing"><svg' in html


def test_to_dict_json_markdown_are_the_renderers() -> None:
    model, x = small()
    report = torchshape.trace(model, x)
    assert report.to_dict() == to_dict(report)
    assert report.to_json() == render_json(report)
    assert json.loads(report.to_json())["ok"] is True
    assert report.to_markdown() == render_markdown(report)


def test_dir_lists_the_public_api_and_help_describes_it() -> None:
    listed = dir(torchshape)
    for name in ("trace", "summary", "inspect", "inspect_conv", "Report", "UsageError", "__version__"):
        assert name in listed
    assert set(torchshape.__all__) <= set(listed)
    text = pydoc.render_doc(torchshape, renderer=pydoc.plaintext)
    for name in ("trace(model", "summary(model", "inspect_conv", "print(report)"):
        assert name in text


def test_importing_a_report_loads_no_renderer() -> None:
    """The renderers import torchshape.report; a Report finds them only when it is shown."""
    code = "import sys, torchshape.report; assert 'torchshape.render' not in sys.modules, sorted(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)
