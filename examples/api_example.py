"""torchshape from Python: check the shapes an encoder's LSTM produces before wiring a decoder.

    python examples/api_example.py     (in a checkout it uses the checkout's torchshape)

``torchshape.inspect`` takes PyTorch's own argument names, runs the module, and returns
a ``Report``; it prints nothing. ``torchshape.render.render`` turns a report into any of
the command line's formats.
"""

from __future__ import annotations

import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
if (CHECKOUT / "torchshape" / "__init__.py").exists():  # in a checkout: use its code
    sys.path.insert(0, str(CHECKOUT))

import torchshape  # noqa: E402
from torchshape.render import render  # noqa: E402

# A seq2seq encoder: batch-first data, 2 stacked bidirectional layers.
encoder = torchshape.inspect(
    kind="lstm",
    input_size=128,
    hidden_size=256,
    num_layers=2,
    bidirectional=True,
    batch_first=True,
    seq_len=40,
    batch=16,
)
if not encoder.ok:
    sys.exit("torch disagreed with a formula:\n" + render(encoder, torchshape.Format.TABLE))

shapes = {row.name: row.shape for row in encoder.rows}
for row in encoder.rows:
    print(f"{row.name:<7} {row.formula:<26} {row.shape}")

# batch_first applies to input and output only: h_n stays (D·num_layers, N, H_out).
assert shapes["output"] == (16, 40, 2 * 256)
assert shapes["h_n"] == (2 * 2, 16, 256)
# A decoder that starts from the top layer's two final states side by side takes
# h_n.view(num_layers, D, N, H_out)[-1], moved to (N, D·H_out): the symbols give its size.
sym = encoder.symbols
assert shapes["h_n"] == (sym.num_layers * sym.D, sym.N, sym.H_out)
print(f"decoder initial state: (N, D·H_out) = ({sym.N}, {sym.D * sym.H_out})")

# A layer too large to run here: on the meta device torchshape runs the same module
# at small probe sizes on the CPU and gives the shapes at yours from the verified formulas.
big = torchshape.inspect(
    kind="gru", input_size=4096, hidden_size=4096, num_layers=8, seq_len=100_000, batch=64, device="meta"
)
assert big.ok and big.probe.reduced
print("meta:", {row.name: row.shape for row in big.rows})

# The same table as Markdown, for a design doc.
print()
print(render(encoder, torchshape.Format.MARKDOWN), end="")
