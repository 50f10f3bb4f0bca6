"""--explain on torch: every claim about this transformer's masks and memory (``torchshape.explain.Claim``),
checked on the module that just ran.

Claims about shapes and refusals run on the pass's own device (meta too: torch's checks
run there). Claims about values compare outputs, so they need a device with values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from torchshape.explain import NO_VALUES, Claim, Claims
from torchshape.families.torch_checks import overflow_text, refusal
from torchshape.families.transformer.spec import Layer, TransformerSpec
from torchshape.families.transformer.torch_side import call, causal_mask, hushed, meta_hints

if TYPE_CHECKING:
    import torch

Inputs = dict[str, "torch.Tensor"]


def analyse(spec: TransformerSpec, module: torch.nn.Module, inputs: Inputs) -> Claims:
    values = next(iter(inputs.values())).device.type != "meta"
    claims: list[Claim] = []
    with hushed():
        wide = _widened(module, inputs) if values else None
        if spec.has_target:
            claims += _causal(spec, module, inputs, wide)
        claims += _padding(spec, module, inputs, wide)
        claims.append(_wrong_attention_mask(spec, module, inputs))
        claims += _memory(spec, module, inputs, wide)
    return Claims(values=values, claims=tuple(claims))


class Wide:
    """The module and inputs the claims that compare outputs run on, and what to say about it.

    In float16 and bfloat16, two kernels (a bool mask's and a float mask's) round apart by
    more with every layer than any fixed tolerance allows; what a mask hides does not depend
    on the dtype, so those claims compare a float32 copy of the module, to float32's precision."""

    def __init__(self, module: torch.nn.Module, inputs: Inputs, note: str) -> None:
        self.module, self.inputs, self.note = module, inputs, note


def _widened(module: torch.nn.Module, inputs: Inputs) -> Wide:
    import copy

    import torch

    dtype = next(iter(inputs.values())).dtype
    if dtype not in (torch.float16, torch.bfloat16):
        return Wide(module, inputs, "")
    wide = copy.deepcopy(module).float()
    floats = {k: v.float() if v.is_floating_point() else v for k, v in inputs.items()}
    name = str(dtype).removeprefix("torch.")
    return Wide(
        wide, floats, f"compared on a float32 copy: {name}'s rounding differs between the two kernels"
    )


def _run(module: torch.nn.Module, inputs: Inputs) -> Any:
    meta = next(iter(inputs.values())).device.type == "meta"
    return call(module, inputs, **(meta_hints(type(module).__name__) if meta else {}))


def refused(topic: str, claim: str, action: Callable[[], Any]) -> Claim:
    """The claim that torch refuses ``action``: it holds when torch raised, its first line the evidence."""
    message = refusal(action)
    return Claim(topic, claim, message is not None, message or "")


def overflows(*tensors: Any) -> bool:
    """An infinity in any of them: the values overflowed the dtype, so comparing them proves nothing
    (NaN is not one: a row whose every key is padded is NaN in torch, the same in both)."""
    import torch

    return any(bool(torch.isinf(t).any()) for t in tensors)


def same(a: Any, b: Any) -> bool:
    import torch

    # two kernels (a bool mask and a float one) round differently: to within the dtype's precision
    tolerance = 2e-2 if a.dtype in (torch.bfloat16, torch.float16) else 1e-5
    return bool(torch.allclose(a, b, equal_nan=True, atol=tolerance, rtol=tolerance))


def _causal(spec: TransformerSpec, module: torch.nn.Module, inputs: Inputs, wide: Wide | None) -> list[Claim]:
    import torch

    values = wide is not None
    t = spec.target_len
    x = next(iter(inputs.values()))
    mask = causal_mask(t, x.device, x.dtype)
    shape_ok = tuple(mask.shape) == (t, t) and mask.dtype == x.dtype
    text = (
        f"nn.Transformer.generate_square_subsequent_mask({t}) is a float ({t}, {t}) mask: 0 on and below "
        "the diagonal, −inf above (position t may see target positions 0 to t only)"
    )
    out: list[Claim] = []
    upper = torch.triu(torch.ones(t, t, dtype=torch.bool, device=x.device), diagonal=1)
    if not values:
        out.append(Claim("causal", text, shape_ok, "shape and dtype checked; values: " + NO_VALUES))
    else:
        held = shape_ok and bool((mask[upper] == float("-inf")).all()) and bool((mask[~upper] == 0).all())
        out.append(Claim("causal", text, held))
    bool_text = (
        f"its bool form torch.triu(torch.ones({t}, {t}, dtype=torch.bool), diagonal=1) (True forbids) "
        "gives the same output: bool True and float −inf both forbid"
    )
    three_d = inputs.get("tgt_mask") is not None and inputs["tgt_mask"].dim() == 3
    if wide is None:
        out.append(Claim("causal", bool_text, None, NO_VALUES))
    else:
        lead = (inputs["tgt_mask"].shape[0],) if three_d else ()
        wide_mask = causal_mask(t, x.device, wide.inputs["tgt"].dtype)
        as_float = {**wide.inputs, "tgt_mask": wide_mask.expand(*lead, t, t)}
        as_bool = {**wide.inputs, "tgt_mask": upper.expand(*lead, t, t)}
        agree = same(_run(wide.module, as_float), _run(wide.module, as_bool))
        out.append(Claim("causal", bool_text, agree, note=wide.note))
        if t > 1:
            time = 1 if spec.batch_first else 0
            later = {**as_float, "tgt": wide.inputs["tgt"].clone()}
            later["tgt"].narrow(time, t - 1, 1).add_(1.0)
            before = _run(wide.module, as_float).narrow(time, 0, t - 1)
            after = _run(wide.module, later).narrow(time, 0, t - 1)
            claim = (
                f"with it, changing tgt at position {t - 1} leaves output positions 0 to {t - 2} "
                "unchanged: no position reads a later one"
            )
            out.append(Claim("causal", claim, same(before, after), note=wide.note))
    return out


def _padding(
    spec: TransformerSpec, module: torch.nn.Module, inputs: Inputs, wide: Wide | None
) -> list[Claim]:
    import torch

    values = wide is not None
    name = "memory_key_padding_mask" if spec.decoder_only else "src_key_padding_mask"
    s, n = spec.source_len, spec.batch
    x = next(iter(inputs.values()))
    base = {k: v for k, v in inputs.items() if k != name}
    out: list[Claim] = []
    if s == n:
        claim = (
            f"{name} must be (N, S); here N = S = {n}, so a transposed (S, N) mask has the right shape "
            "and torch cannot tell: it would hide the wrong positions"
        )
        out.append(Claim("padding", claim, None, "not evaluated: S = N"))
    else:
        wrong = torch.zeros(s, n, dtype=torch.bool, device=x.device)
        message = refusal(lambda: _run(module, {**base, name: wrong}))
        claim = f"{name} must be (N, S) = ({n}, {s}), whatever batch_first says: torch refuses ({s}, {n})"
        skipped = fast_path_skips_the_check(spec, values)
        if skipped:
            claim = (
                f"{name} must be (N, S) = ({n}, {s}), but torch's fused encoder-layer fast path "
                "(batch_first, an even nhead, eval without autograd, src_mask given too; in nn.Transformer "
                f"with norm_first) does not check it: it accepts a transposed ({s}, {n}) mask without a "
                "word, and the padding is then silently wrong"
            )
        out.append(Claim("padding", claim, (message is None) == skipped, message or ""))
    integer = torch.zeros(n, s, dtype=torch.int64, device=x.device)
    claim = f"{name} must be bool or float: torch refuses an int64 mask of 0s and 1s"
    out.append(refused("padding", claim, lambda: _run(module, {**base, name: integer})))
    text = f"bool True and float −inf in {name} hide the same keys: the outputs agree"
    if wide is None:
        out.append(Claim("padding", text, None, NO_VALUES))
    else:
        hidden = torch.zeros(n, s, dtype=torch.bool, device=x.device)
        if s > 1:
            hidden[1::2, -1] = True
        x = next(iter(wide.inputs.values()))
        base = {k: v for k, v in wide.inputs.items() if k != name}
        as_float = torch.zeros(n, s, dtype=x.dtype, device=x.device).masked_fill(hidden, float("-inf"))
        # a float padding mask beside a bool attention mask is refused in some paths: match them
        matched = {
            k: (
                v.to(x.dtype).masked_fill(v, float("-inf"))
                if v.dtype == torch.bool and k.endswith("_mask") and not k.endswith("padding_mask")
                else v
            )
            for k, v in base.items()
        }
        out.append(
            Claim(
                "padding",
                text,
                same(
                    _run(wide.module, {**base, name: hidden}), _run(wide.module, {**matched, name: as_float})
                ),
                note=wide.note,
            )
        )
    return out


# LayerNorm over one feature gives its bias; over two, ±1 by the sign of their difference: the
# output after it barely moves, whatever its input does
QUANTIZED = "not evaluated: with E ≤ 2 the last LayerNorm gives (nearly) the same output for any input"


def fast_path_skips_the_check(spec: TransformerSpec, values: bool) -> bool:
    """Where torch's fused encoder-layer kernel takes a key padding mask without checking its shape.

    nn.TransformerEncoderLayer takes its fast path in eval without autograd, with batch_first and
    an even nhead (torch's own conditions); given src_mask too, it merges the two masks with
    ``key_padding_mask.view(N, 1, 1, S)``, which an (S, N) mask of the same size passes. Without
    src_mask, torch checks the shape and refuses it. nn.Transformer's encoder checks it first
    (its nested-tensor path's mask check), except with norm_first, which turns that path off."""
    from torchshape.families.transformer.spec import MaskForm

    layers = spec.layer is Layer.ENCODER or (
        spec.layer in (Layer.FULL, Layer.ENCODER_STACK) and spec.norm_first
    )
    return (
        values and layers and spec.batch_first and spec.nhead % 2 == 0 and spec.src_mask is not MaskForm.NONE
    )


def _wrong_attention_mask(spec: TransformerSpec, module: torch.nn.Module, inputs: Inputs) -> Claim:
    import torch

    name, length = ("tgt_mask", spec.target_len) if spec.has_target else ("src_mask", spec.source_len)
    x = next(iter(inputs.values()))
    wrong = torch.zeros(length + 1, length + 1, dtype=torch.bool, device=x.device)
    symbol = "T" if name == "tgt_mask" else "S"
    claim = (
        f"{name} must be ({symbol}, {symbol}) = ({length}, {length}) or (N·nhead, {length}, {length}): "
        f"torch refuses ({length + 1}, {length + 1})"
    )
    return refused("mask", claim, lambda: _run(module, {**inputs, name: wrong}))


def _memory(spec: TransformerSpec, module: torch.nn.Module, inputs: Inputs, wide: Wide | None) -> list[Claim]:
    import torch

    values = wide is not None
    dim = 1 if spec.batch_first else 0
    if spec.encoder_only:
        return []
    if spec.decoder_only:
        memory = inputs["memory"]
        longer = torch.cat([memory, memory.narrow(dim, 0, 1)], dim=dim)
        fed = {k: v for k, v in inputs.items() if not k.startswith("memory_")}
        shape = tuple(_run(module, {**fed, "memory": longer}).shape)
        expected = tuple(inputs["tgt"].shape)
        out = [
            Claim(
                "memory",
                f"memory is the encoder's output, (S, N, E) in torch's default layout: the cross-attention "
                f"reads it as key and value, so a memory of length S + 1 = {spec.source_len + 1} still gives "
                f"output {expected}, one row per target position",
                shape == expected,
            )
        ]
        text = "the output depends on memory: changing it changes the output"
        if not values:
            out.append(Claim("memory", text, None, NO_VALUES))
        elif spec.d_model <= 2 and (not spec.norm_first or spec.final_norm):  # a LayerNorm last
            out.append(Claim("memory", text, None, QUANTIZED))
        else:
            seeded = torch.Generator(device=memory.device).manual_seed(1)
            noise = torch.randn(memory.shape, generator=seeded, device=memory.device)
            changed = {**inputs, "memory": memory + noise.to(memory.dtype)}
            before, after = _run(module, inputs), _run(module, changed)
            if overflows(before, after):
                out.append(Claim("memory", text, None, overflow_text(before)))
            else:
                out.append(Claim("memory", text, not same(before, after)))
        return out
    text = (
        "memory = transformer.encoder(src, mask=src_mask, src_key_padding_mask=...), and the output is "
        "transformer.decoder(tgt, memory, ...) with memory_key_padding_mask: nn.Transformer is the two "
        "in turn"
    )
    if wide is None:
        return [Claim("memory", text, None, NO_VALUES)]
    module, inputs = wide.module, wide.inputs
    # nn.TransformerEncoder's forward calls the attention mask ``mask``
    encoder_masks = {"mask" if k == "src_mask" else k: v for k, v in inputs.items() if k.startswith("src_")}
    memory = module.encoder(inputs["src"], **encoder_masks)
    decoder_masks = {k: v for k, v in inputs.items() if k.startswith(("tgt_", "memory_"))}
    output = module.decoder(inputs["tgt"], memory, **decoder_masks)
    whole = _run(module, inputs)
    if overflows(output, whole):
        return [Claim("memory", text, None, overflow_text(whole))]
    return [Claim("memory", text, same(output, whole), note=wide.note)]
