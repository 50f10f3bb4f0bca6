"""The shape rules of nn.TransformerEncoderLayer, nn.TransformerDecoderLayer and nn.Transformer,
in the PyTorch docs' symbols.

Pure arithmetic, no torch: this is the file to read to learn the rules.

    S      source sequence length (src; memory, for a decoder)
    T      target sequence length (tgt)
    N      batch size
    E      d_model, the feature size of every input and output
    nhead  attention heads; each sees E/nhead features, so E must divide by nhead
    F      dim_feedforward, the hidden size of the feed-forward block

    src                      (S, N, E)            batch_first: (N, S, E)
    tgt                      (T, N, E)            batch_first: (N, T, E)
    memory                   (S, N, E)            the encoder's output; the decoder's key and value
    src_mask                 (S, S)  or (N·nhead, S, S)
    tgt_mask                 (T, T)  or (N·nhead, T, T)
    memory_mask              (T, S)  or (N·nhead, T, S)
    src_key_padding_mask     (N, S)
    tgt_key_padding_mask     (N, T)
    memory_key_padding_mask  (N, S)
    output                   (S, N, E) for an encoder layer; (T, N, E) for a decoder and nn.Transformer

An attention mask of shape (L, S) says which keys each query may see: bool True, or float
−inf, forbids. A 3-D one gives each sample and head its own: index n·nhead + h. A key
padding mask (N, S) hides whole keys of one sample: bool True (or float −inf) ignores.
"""

from __future__ import annotations

from torchshape.facts import LegendEntry, Symbols, TensorFormula
from torchshape.families.transformer.spec import Layer, MaskForm, PaddingForm, TransformerSpec


def symbols(spec: TransformerSpec) -> Symbols:
    pairs = [("S", spec.source_len)]
    if spec.has_target:
        pairs.append(("T", spec.target_len))
    pairs += [("N", spec.batch), ("E", spec.d_model), ("nhead", spec.nhead), ("F", spec.dim_feedforward)]
    pairs.append(("N·nhead", spec.batch * spec.nhead))
    return Symbols(tuple(pairs))


def sequence(spec: TransformerSpec, length: str) -> tuple[str, ...]:
    return ("N", length, "E") if spec.batch_first else (length, "N", "E")


_ATTENDS = {"src_mask": ("S", "S"), "tgt_mask": ("T", "T"), "memory_mask": ("T", "S")}
_PADS = {"src_key_padding_mask": "S", "tgt_key_padding_mask": "T", "memory_key_padding_mask": "S"}
_WHO = {
    "src_mask": "which source positions each source position may attend to (self-attention)",
    "tgt_mask": "which target positions each target position may attend to (self-attention)",
    "memory_mask": "which memory positions each target position may attend to (cross-attention)",
    "src_key_padding_mask": "source positions of each sample that every query ignores",
    "tgt_key_padding_mask": "target positions of each sample that every query ignores",
    "memory_key_padding_mask": "memory positions of each sample that the cross-attention ignores",
}


def mask_dtype(spec: TransformerSpec, name: str) -> str:
    """bool or float: a causal tgt_mask is float (0, −inf), as generate_square_subsequent_mask gives."""
    if name == "tgt_mask" and spec.causal:
        return "float"
    if name in _PADS:
        return str(getattr(spec, name).value)
    return "bool"


def mask_formula(spec: TransformerSpec, name: str) -> TensorFormula:
    dtype = mask_dtype(spec, name)
    if name in _PADS:
        forbids = "True" if dtype == "bool" else "−inf"
        return TensorFormula(
            name, ("N", _PADS[name]), meaning=f"{_WHO[name]} ({dtype}: {forbids} ignores)", fed=True
        )
    form = getattr(spec, name)
    lead = ("N·nhead",) if form is MaskForm.THREE_D else ()
    what = (
        "causal: nn.Transformer.generate_square_subsequent_mask(T), "
        if spec.causal and name == "tgt_mask"
        else ""
    )
    forbids = "−inf" if dtype == "float" else "True"
    per = "; one per sample and head, index n·nhead + h" if lead else "; the same for every sample and head"
    return TensorFormula(
        name,
        (*lead, *_ATTENDS[name]),
        meaning=f"{what}{_WHO[name]} ({dtype}: {forbids} forbids{per})",
        fed=True,
    )


def tensor_formulas(spec: TransformerSpec) -> list[TensorFormula]:
    """Every tensor fed and returned, in the forward's order; the output last."""
    src = TensorFormula("src", sequence(spec, "S"), meaning="the source sequence", fed=True)
    tgt = TensorFormula("tgt", sequence(spec, "T"), meaning="the target sequence", fed=True)
    out: list[TensorFormula] = []
    if spec.encoder_only:
        out.append(src)
    elif spec.decoder_only:
        out.append(tgt)
        out.append(
            TensorFormula(
                "memory",
                sequence(spec, "S"),
                meaning="the encoder's output: the key and value of the cross-attention (fed here)",
                fed=True,
            )
        )
    else:
        out += [src, tgt]
    out += [mask_formula(spec, name) for name in spec.masks()]
    if spec.layer is Layer.FULL:
        out.append(
            TensorFormula(
                "memory",
                sequence(spec, "S"),
                meaning="the encoder's output (after its final norm), fed to every decoder layer",
            )
        )
    length = "S" if spec.encoder_only else "T"
    meaning = "one E-vector per source position" if length == "S" else "one E-vector per target position"
    out.append(TensorFormula("output", sequence(spec, length), meaning=meaning))
    return out


def legend(spec: TransformerSpec) -> list[LegendEntry]:
    """Every symbol of the table, with its value and its flag."""
    source = "memory length" if spec.decoder_only else "source length"
    entries = [LegendEntry("S", spec.source_len, f"{source} (--source-len)")]
    if spec.has_target:
        entries.append(LegendEntry("T", spec.target_len, "target length (--target-len)"))
    entries += [
        LegendEntry("N", spec.batch, "batch size (--batch)"),
        LegendEntry("E", spec.d_model, "d_model (--d-model)"),
        LegendEntry(
            "nhead", spec.nhead, f"attention heads (--nhead); each sees E/nhead = {spec.head_dim} features"
        ),
        LegendEntry("F", spec.dim_feedforward, "dim_feedforward (--dim-feedforward)"),
    ]
    if spec.stacked:
        entries.append(LegendEntry("num_layers", spec.num_layers, "copies of the layer (--num-layers)"))
    if any(getattr(spec, m) is MaskForm.THREE_D for m in spec.masks() if m in _ATTENDS):
        entries.append(LegendEntry("N·nhead", spec.batch * spec.nhead, "one mask per sample and head"))
    return entries


def notes(spec: TransformerSpec) -> list[str]:
    """Where a known mistake is invited by this configuration."""
    out: list[str] = []
    if not spec.batch_first:
        out.append(
            "batch_first=False (torch's default): sequences are (length, N, E), but padding masks are "
            "always (N, length)."
        )
    bools = [m for m in spec.masks() if mask_dtype(spec, m) == "bool"]
    floats = [m for m in spec.masks() if mask_dtype(spec, m) == "float"]
    if bools and floats:
        out.append(
            "bool and float masks are mixed: torch turns both into float (True → −inf) and warns that "
            "mismatched mask types are deprecated."
        )
    if spec.causal:
        out.append(
            "--causal: tgt_mask is generate_square_subsequent_mask(T), float with −inf above the "
            "diagonal; the bool mask torch.triu(torch.ones(T, T, dtype=torch.bool), 1) does the same."
        )
    if spec.norm_first:
        out.append(
            "norm_first=True: LayerNorm runs before attention and feed-forward; the shapes are the same."
        )
    if spec.stacked:
        norm = (
            "then norm=nn.LayerNorm(E) once (--final-norm)"
            if spec.final_norm
            else "no final norm (norm=None, torch's default; --final-norm adds nn.LayerNorm(E))"
        )
        out.append(
            f"nn.{spec.module_name} runs num_layers = {spec.num_layers} deep copies of one layer, each "
            f"mapping {'src' if spec.encoder_only else 'tgt'} to its own shape, {norm}."
        )
    if spec.layer is Layer.FULL:
        out.append(
            "nn.Transformer has no embedding and no positional encoding: src and tgt are already "
            "E-vectors; it returns the decoder's output, not the encoder's (memory)."
        )
    if any(getattr(spec, m) is MaskForm.THREE_D for m in spec.masks() if m in _ATTENDS):
        out.append("A 3-D attention mask's first dimension is N·nhead, sample-major: index n·nhead + h.")
    if (
        spec.memory_key_padding_mask is not PaddingForm.NONE
        or spec.src_key_padding_mask is not PaddingForm.NONE
    ):
        out.append("A padding mask that hides every key of a sample gives NaN for it, with no error.")
    return out
