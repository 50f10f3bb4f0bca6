"""The models that benchmarks/run.py traces with ``torchshape model``, in plain nn layers.

- ``Decoder``: a decoder-only transformer of about 6.7 B parameters (32 layers, d_model 4096,
  32 heads, feed-forward 11008, vocabulary 32000: RMSNorm, q/k/v/o projections, a SwiGLU MLP).
- ``Seq2Seq``: a sequence-to-sequence model whose encoder is an 8-layer bidirectional LSTM of
  hidden size 4096, with an LSTM decoder (about 3.2 B parameters).
- ``LanguageModel``: a mid-size LSTM language model of about 54 M parameters, run on the CPU.

``python benchmarks/models.py decoder`` is the baseline of the 7 B figure: the same model built
under ``with torch.device("meta")`` and its forward run on a meta input, without torchshape.
"""

from __future__ import annotations

import sys

import torch
from torch import nn
from torch.nn import functional as F

# The inputs run.py gives each model, as --input texts (SHAPE:DTYPE).
DECODER_INPUT = "1,2048:int64"
SEQ2SEQ_INPUTS = ("64,1000:int64", "64,200:int64")
LANGUAGE_MODEL_INPUT = "4,64:int64"


class Attention(nn.Module):
    def __init__(self, d_model: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.q_proj = nn.Linear(d_model, d_model, bias=False)
        self.k_proj = nn.Linear(d_model, d_model, bias=False)
        self.v_proj = nn.Linear(d_model, d_model, bias=False)
        self.o_proj = nn.Linear(d_model, d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape

        def split(t: torch.Tensor) -> torch.Tensor:  # (N, L, E) → (N, heads, L, E / heads)
            return t.view(batch, length, self.heads, width // self.heads).transpose(1, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        attended = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.o_proj(attended.transpose(1, 2).reshape(batch, length, width))


class MLP(nn.Module):
    def __init__(self, d_model: int, ffn: int) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(d_model, ffn, bias=False)
        self.up_proj = nn.Linear(d_model, ffn, bias=False)
        self.down_proj = nn.Linear(ffn, d_model, bias=False)
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(self.act(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, d_model: int, heads: int, ffn: int) -> None:
        super().__init__()
        self.attn_norm = nn.RMSNorm(d_model)
        self.attn = Attention(d_model, heads)
        self.mlp_norm = nn.RMSNorm(d_model)
        self.mlp = MLP(d_model, ffn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.attn_norm(x))
        return x + self.mlp(self.mlp_norm(x))


class Decoder(nn.Module):
    """A decoder-only transformer: tokens (N, L) → logits (N, L, vocab)."""

    def __init__(
        self, vocab: int = 32000, d_model: int = 4096, layers: int = 32, heads: int = 32, ffn: int = 11008
    ) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.layers = nn.ModuleList(Block(d_model, heads, ffn) for _ in range(layers))
        self.norm = nn.RMSNorm(d_model)
        self.lm_head = nn.Linear(d_model, vocab, bias=False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens)
        for layer in self.layers:
            x = layer(x)
        return self.lm_head(self.norm(x))


class Seq2Seq(nn.Module):
    """An 8-layer bidirectional LSTM encoder (hidden 4096) and a 1-layer LSTM decoder."""

    def __init__(self, vocab: int = 32000, embed: int = 1024, hidden: int = 4096, layers: int = 8) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.encoder = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * hidden, hidden)
        self.decoder = nn.LSTM(embed, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        _, (h_n, _) = self.encoder(self.embedding(source))
        # the last layer's two directions, side by side, bridged to the decoder's size
        h_0 = torch.tanh(self.bridge(torch.cat([h_n[-2], h_n[-1]], dim=-1))).unsqueeze(0)
        c_0 = torch.zeros_like(h_0)
        decoded, _ = self.decoder(self.embedding(target), (h_0, c_0))
        return self.out(decoded)


class LanguageModel(nn.Module):
    """A 3-layer LSTM language model: tokens (N, L) → logits (N, L, vocab)."""

    def __init__(self, vocab: int = 20000, embed: int = 512, hidden: int = 1024, layers: int = 3) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.rnn = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True)
        self.dropout = nn.Dropout(0.1)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        output, _ = self.rnn(self.embedding(tokens))
        return self.head(self.dropout(output))


def shape_of(text: str) -> tuple[int, ...]:
    """The shape of an --input text: ``1,2048:int64`` → (1, 2048)."""
    return tuple(int(size) for size in text.split(":")[0].split(","))


def bare_decoder_on_meta() -> None:
    """What torchshape's trace of ``Decoder`` costs without torchshape: build it on meta, run forward."""
    with torch.device("meta"):
        model = Decoder()
    model.eval()
    tokens = torch.empty(shape_of(DECODER_INPUT), dtype=torch.int64, device="meta")
    logits = model(tokens)
    assert logits.shape == (*shape_of(DECODER_INPUT), 32000)


if __name__ == "__main__":
    if sys.argv[1:] != ["decoder"]:
        sys.exit("usage: python benchmarks/models.py decoder")
    bare_decoder_on_meta()
