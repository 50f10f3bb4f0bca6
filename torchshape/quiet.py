"""The warnings torch raises that are not the user's business, silenced one by one.

Each entry is matched by its message, category and the torch module that raises it,
never by a blanket filter, so any other warning (a real problem) still reaches stderr.

- Without numpy (a fresh virtual environment), importing torch warns that it could
  not initialize NumPy. torchshape never converts to numpy.
- ``nn.RNN/GRU/LSTM(..., dropout=p, num_layers=1)`` warns that dropout does nothing;
  torchshape says so in its notes.
- The CPU (oneDNN) and ROCm (MIOpen) kernels fall back to torch's own for an LSTM with
  ``proj_size``, and say so on every forward pass.
- cuDNN warns when a module's weights are not one contiguous chunk: the step-by-step
  loops of ``--unroll`` build such modules on purpose.
- A convolution with ``padding='same'``, an even kernel and odd dilation warns that it
  copies the input to pad it unevenly; torchshape's notes say how the padding splits.
- On a GPU, the first cuBLAS call of a thread with no CUDA context yet (the forward pass
  runs in a worker thread) warns that torch is setting the primary context up.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

# (message regex, category, module regex); re.match semantics, as ``warnings`` uses them.
TORCH_NOTICES: tuple[tuple[str, type[Warning], str], ...] = (
    (r"Failed to initialize NumPy", UserWarning, r"torch(\.|$)"),
    (r"dropout option adds dropout after all but last recurrent layer", UserWarning, r"torch\.nn\."),
    (r"LSTM with projections is not supported with (oneDNN|MIOpen)", UserWarning, r"torch\.nn\."),
    (r"RNN module weights are not part of single contiguous chunk of memory", UserWarning, r"torch\.nn\."),
    (r"Using padding='same' with even kernel lengths and odd dilation", UserWarning, r"torch\.nn\."),
    (r"Attempting to run cuBLAS, but there was no current CUDA context", UserWarning, r"torch(\.|$)"),
)


def install() -> None:
    """Silence torch's notices for the rest of the process (the command line owns its process)."""
    for message, category, module in TORCH_NOTICES:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)


@contextmanager
def quiet() -> Iterator[None]:
    """Silence torch's notices inside the block only (the Python API leaves the caller's filters alone)."""
    with warnings.catch_warnings():
        install()
        yield
