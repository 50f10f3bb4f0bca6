"""The recurrent family's report: each formula beside the tensor torch fed or returned."""

from __future__ import annotations

from torchshape.families.rnn import formulas
from torchshape.families.rnn.counts import parameter_rows, totals
from torchshape.families.rnn.spec import RNNSpec
from torchshape.probe import ProbeRun
from torchshape.report import Report, layer_report, real_pass


def call(spec: RNNSpec) -> str:
    """How the module is called, in the names the table uses."""
    lstm, name = spec.kind.has_cell_state, spec.kind.value.replace("-", "_")
    if spec.kind.is_cell:  # LSTMCell returns the tuple (h_1, c_1), the others h_1 alone
        return f"h_1, c_1 = {name}(input, (h_0, c_0))" if lstm else f"h_1 = {name}(input, h_0)"
    return "output, (h_n, c_n) = lstm(input, (h_0, c_0))" if lstm else f"output, h_n = {name}(input, h_0)"


def ran(probe: ProbeRun) -> str:
    """One sentence saying exactly what was run, for the table footer and JSON."""
    if probe.reduced:
        sizes = ", ".join(f"{k}={v}" for k, v in probe.sizes.as_dict().items() if k in _SIZE_SYMBOLS)
        return (
            f"meta: no forward pass runs on meta; torch {probe.torch_version} ran the same "
            f"module on {probe.device} ({probe.dtype}) at probe sizes {sizes}; shapes at your "
            "sizes come from the formulas that run verified"
        )
    return real_pass(probe)


_SIZE_SYMBOLS = ("L", "N", "H_in", "H_cell", "H_out", "num_layers")


def build_report(spec: RNNSpec, probe: ProbeRun) -> Report:
    """Set each formula beside the tensor torch fed or returned."""
    parameters = parameter_rows(spec, probe.parameters, probe.parameter_layers)
    return layer_report(spec, probe, formulas, call(spec), totals(spec), parameters, ran=ran(probe))
