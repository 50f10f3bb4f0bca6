"""``make_spec``: nn.MultiheadAttention's settings checked into an ``AttentionSpec``, each refusal
torch would make at build or forward time made here first (``checker.Checker``). No torch here."""

from __future__ import annotations

from torchshape.families.attention.spec import DEFAULTS, AttentionSpec, MaskDType, MaskForm
from torchshape.families.checker import Checker


class _Checker(Checker[AttentionSpec]):
    DEFAULTS = DEFAULTS

    def spec(self) -> AttentionSpec:
        embed_dim = self.whole("embed_dim")
        self.whole("num_heads")
        self.divisible(
            "embed_dim",
            "num_heads",
            ": each head takes head_dim = E/num_heads features "
            '(torch says "embed_dim must be divisible by num_heads")',
            offer=self.n("num_heads"),
            most=4096,
            shown=8,
        )
        self_attention = self.switch("self_attention")
        target_len = self.whole("target_len")
        if self_attention:
            for field in ("kdim", "vdim"):
                if self.given(field) and self.whole(field) != embed_dim:
                    raise self.error(
                        field,
                        f"{self.n('self_attention')} feeds one tensor as query, key and value, so "
                        f"E_k = E_v = E = {embed_dim}; drop {self.n(field)} or {self.n('self_attention')}",
                    )
            if self.given("source_len") and self.whole("source_len") != target_len:
                raise self.error(
                    "source_len",
                    f"{self.n('self_attention')} feeds one tensor as query, key and value, so S = L = "
                    f"{target_len}; drop {self.n('source_len')} or {self.n('self_attention')}",
                )
        self.whole("kdim", default=embed_dim)
        self.whole("vdim", default=embed_dim)
        source_len = target_len if self_attention else self.whole("source_len")
        self.batch(self.switch("unbatched"))
        self.switch("batch_first")
        need_weights, average = self.switch("need_weights"), self.switch("average_attn_weights")
        if not need_weights and not average:
            raise self.error(
                "average_attn_weights",
                f"there are no weights to keep per head with {self.n('need_weights')} "
                "(average_attn_weights only acts when need_weights=True); drop one of them",
            )
        key_padding_mask = self.switch("key_padding_mask")
        attn_mask = self.choice("attn_mask", MaskForm)
        if self.switch("is_causal") and attn_mask is MaskForm.NONE:
            attn_mask = MaskForm.TWO_D  # torch needs the mask itself beside the is_causal hint
        self.choice("mask_dtype", MaskDType)
        if self.given("mask_dtype") and not (key_padding_mask or attn_mask is not MaskForm.NONE):
            raise self.error(
                "mask_dtype",
                f"there is no mask to give a dtype; add {self.n('key_padding_mask')}, "
                f"{self.n('attn_mask')} 2d|3d or {self.n('is_causal')}",
            )
        self.probability("dropout", example="0.1")
        self.device()
        for field in ("add_bias_kv", "add_zero_attn", "bias"):
            self.switch(field)
        self.dtype()
        return self.made(AttentionSpec, source_len=source_len, attn_mask=attn_mask)


make_spec = _Checker.make_spec
