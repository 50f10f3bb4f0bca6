"""examples/notebook.ipynb runs in a real Jupyter kernel, and every Report shows itself as HTML.

The kernel is ipykernel on this very python (a kernelspec written for the test), run by nbclient,
as Jupyter runs a notebook. Skipped only where nbclient or ipykernel cannot be imported (they are
in the ``test`` extra).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

nbclient = pytest.importorskip("nbclient", reason="no Jupyter kernel: install the test extra (nbclient)")
nbformat = pytest.importorskip("nbformat", reason="no Jupyter kernel: install the test extra (nbformat)")
pytest.importorskip("ipykernel", reason="no Jupyter kernel: install the test extra (ipykernel)")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NOTEBOOK = EXAMPLES / "notebook.ipynb"
KERNEL = "torchshape-test"


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The notebook after a kernel ran every cell (once for all the tests here)."""
    home = tmp_path_factory.mktemp("jupyter")
    spec = home / "kernels" / KERNEL
    spec.mkdir(parents=True)
    kernel = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "torchshape tests",
        "language": "python",
    }
    (spec / "kernel.json").write_text(json.dumps(kernel))
    patch = pytest.MonkeyPatch()
    patch.setenv("JUPYTER_PATH", str(home))
    patch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    try:
        notebook = nbformat.read(NOTEBOOK, as_version=4)
        client = nbclient.NotebookClient(
            notebook, timeout=300, kernel_name=KERNEL, resources={"metadata": {"path": str(EXAMPLES)}}
        )
        client.execute()
    finally:
        patch.undo()
    return notebook


def html_of(cell: Any) -> str:
    found = [out["data"]["text/html"] for out in cell.outputs if "text/html" in out.get("data", {})]
    assert len(found) == 1, cell.source
    html: str = found[0]
    return html


def code_cells(notebook: Any) -> list[Any]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def cell_with(notebook: Any, text: str) -> Any:
    return next(cell for cell in code_cells(notebook) if text in cell.source)


def test_every_cell_runs_without_an_error(executed: Any) -> None:
    for cell in code_cells(executed):
        assert not [out for out in cell.outputs if out.output_type == "error"], cell.source


def notebook_model() -> nn.Sequential:
    """The model the notebook traces, built again here."""
    return nn.Sequential(
        nn.Conv2d(1, 8, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * 14 * 14, 10),
    )


def test_the_trace_shows_torchs_shapes_as_html(executed: Any) -> None:
    cell = cell_with(executed, "torchshape.trace(model")
    html = html_of(cell)
    # the same model, run here: every module's output shape must be in the HTML with its ✓
    model = notebook_model()
    x = torch.randn(4, 1, 28, 28)
    for layer in model:
        x = layer(x)
        assert f"<code>output: {tuple(x.shape)}</code>" in html
    assert html.count('<span class="ok">✓</span>') >= len(model)
    assert "✓ real forward pass" in html


def test_the_repr_is_one_line(executed: Any) -> None:
    cell = cell_with(executed, "repr(report)")
    text = cell.outputs[0]["data"]["text/plain"]
    assert text.startswith("('<Report model Sequential: 5 layers,") and text.endswith("True)")


def test_print_writes_the_plain_table(executed: Any) -> None:
    cell = cell_with(executed, "print(report)")
    streams = [out for out in cell.outputs if out.output_type == "stream"]
    assert len(streams) == 1 and len(cell.outputs) == 1  # the text itself, no HTML in its place
    text = streams[0]["text"]
    assert "output: (4, 10)" in text and "✓ real forward pass" in text and "<" not in text


def test_summary_gives_torchinfos_totals(executed: Any) -> None:
    cell = cell_with(executed, "torchshape.summary")
    model = notebook_model()
    params = sum(p.numel() for p in model.parameters())
    assert cell.outputs[-1]["data"]["text/plain"].startswith(f"({params}, {params}, ")
    assert not [out for out in cell.outputs if out.output_type == "stream"]  # verbose: quiet in a notebook


def test_a_family_report_shows_its_formulas(executed: Any) -> None:
    html = html_of(cell_with(executed, 'kind="lstm"'))
    lstm = nn.LSTM(32, 64, num_layers=2, bidirectional=True, batch_first=True)
    assert "<table>" in html and "nn.LSTM(" in html
    assert "(N, L, D·H_out)" in html
    assert "✓ real forward pass" in html
    del lstm


def test_a_failing_model_shows_its_diagnosis(executed: Any) -> None:
    html = html_of(cell_with(executed, "broken = nn.Sequential"))
    assert "diagnosis: where forward raised" in html
    assert '<span class="bad">✗</span>' in html
    assert '<div class="bad">' in html


def test_the_diagram_is_drawn_inline(executed: Any) -> None:
    html = html_of(cell_with(executed, "diagram=True"))
    assert '<div class="drawing"><svg' in html and "</svg></div>" in html
    # torch's own count of windows along the axis drawn
    out = nn.MaxPool2d(3, stride=2)(torch.randn(1, 1, 9, 9))
    assert f", 1, {out.shape[2]}, {out.shape[3]})</code>" in html
