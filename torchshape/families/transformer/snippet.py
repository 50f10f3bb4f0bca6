"""``--format python``: a script that builds the same module with plain torch and asserts its shapes."""

from __future__ import annotations

from torchshape.families.transformer.counts import parameter_formulas
from torchshape.families.transformer.formulas import mask_dtype, tensor_formulas
from torchshape.families.transformer.spec import Layer, TransformerSpec
from torchshape.options import Shown
from torchshape.render import script
from torchshape.report import Report

NAMES = {
    Layer.ENCODER: "encoder_layer",
    Layer.DECODER: "decoder_layer",
    Layer.FULL: "transformer",
    Layer.ENCODER_STACK: "encoder",
    Layer.DECODER_STACK: "decoder",
}
CALL_ARGS = {
    Layer.ENCODER: "src",
    Layer.DECODER: "tgt, memory",
    Layer.FULL: "src, tgt",
    Layer.ENCODER_STACK: "src",
    Layer.DECODER_STACK: "tgt, memory",
}


def render_python(report: Report, shown: Shown) -> str:
    spec = report.spec
    name = NAMES[spec.layer]
    rows = {row.name: row for row in report.rows}
    fn = "empty" if spec.device == "meta" else "randn"
    about = (
        "Builds the module torchshape inspected, feeds it inputs and masks of the shapes in its",
        "table, and checks every shape.",
    )
    lines = script.head(report, shown, about) + _built(spec, name)
    fed = [f for f in tensor_formulas(spec) if f.fed]
    for f in fed:
        shape = ", ".join(map(str, rows[f.name].expected))
        if f.name == "tgt_mask" and spec.causal:
            t = spec.target_len
            mask = f"nn.Transformer.generate_square_subsequent_mask({t}, device=device, dtype=dtype)"
            lines.append(f"{f.name} = {mask}" if len(f.dims) == 2 else f"{f.name} = {mask}.expand({shape})")
        elif f.name.endswith("mask"):
            dtype = "torch.bool" if mask_dtype(spec, f.name) == "bool" else "dtype"
            lines.append(f"{f.name} = torch.zeros({shape}, dtype={dtype}, device=device)")
        else:
            lines.append(f"{f.name} = torch.{fn}({shape}, device=device, dtype=dtype)")
    # nn.TransformerEncoder's forward calls the attention mask ``mask``
    keyword = {"src_mask": "mask"} if spec.layer is Layer.ENCODER_STACK else {}
    masks = "".join(f", {keyword.get(m, m)}={m}" for m in spec.masks())
    args = CALL_ARGS[spec.layer]
    hint = ""
    hints = {
        Layer.FULL: ", src_is_causal=False, tgt_is_causal=False",
        Layer.ENCODER_STACK: ", is_causal=False",
        Layer.DECODER_STACK: ", tgt_is_causal=False",
    }
    if spec.layer in hints and spec.device == "meta":
        lines.append(
            f"# on meta nn.{spec.module_name} cannot look at a mask's values to spot a causal one: say so"
        )
        hint = hints[spec.layer]
    words = [*args.split(", "), *masks.removeprefix(", ").split(", "), *hint.removeprefix(", ").split(", ")]
    lines += ["", "with torch.no_grad():", _call(name, [w for w in words if w]), ""]
    lines += [f"assert {f.name}.shape == {tuple(rows[f.name].expected)}, {f.name}.shape" for f in fed]
    lines.append(f"assert output.shape == {tuple(rows['output'].expected)}, output.shape")
    if shown.params:
        count = sum(len(p.names()) for p in parameter_formulas(spec))
        lines += [
            "",
            "parameters = {name: tuple(p.shape) for name, p in " + f"{name}.named_parameters()" + "}",
            f"assert len(parameters) == {count}, len(parameters)",
        ]
        for p in parameter_formulas(spec):
            if "{i}" in p.name:  # one line for every layer of a stack
                lines.append(f"for i in range({p.layers}):")
                lines.append(f'    assert parameters[f"{p.name}"] == {p.shape!r}')
            else:
                lines.append(f'assert parameters["{p.name}"] == {p.shape!r}')
    return "\n".join(lines + script.END)


def _built(spec: TransformerSpec, name: str) -> list[str]:
    """The module's construction: one call, or a stack's layer, norm and stack."""
    where = ["device=device", "dtype=dtype"]
    if not spec.stacked:
        return [script.constructor(name, spec.module_name, [*spec.arguments(), *where])]
    layer = f"{name}_layer"
    lines = [
        script.constructor(layer, f"{spec.module_name}Layer", [*spec.arguments(), *where]).removesuffix(
            ".eval()"
        )
    ]
    if spec.final_norm:
        lines.append(f"norm = nn.LayerNorm({spec.d_model}, device=device, dtype=dtype)")
    lines.append(script.constructor(name, spec.module_name, spec.stack_arguments(layer, "norm")))
    return lines


def _call(name: str, args: list[str]) -> str:
    """``    output = name(args)`` inside the ``with`` block, as ruff format writes it."""
    return script.call_text(f"output = {name}", args, indent="    ")
