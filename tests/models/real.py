"""Stand-ins for layers of real models that are not the plain nn classes: transformers' ``Conv1D``
(GPT-2's projections), attention through ``F.linear`` and ``F.scaled_dot_product_attention``
(Swin, BERT), torchvision's ``Conv3DSimple`` (an ``nn.Conv3d`` subclass), a weight-normed
convolution (wav2vec2), a TorchScript submodule, and a decoder that reads its attention mask's
values (Llama in transformers), the way those libraries write them."""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


class Conv1D(nn.Module):
    """transformers.pytorch_utils.Conv1D: a linear layer with its weight transposed, (nx, nf)."""

    def __init__(self, nf: int, nx: int) -> None:
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size_out = (*x.size()[:-1], self.nf)
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
        return x.view(size_out)


class GPT2Block(nn.Module):
    """GPT-2's attention and MLP: Conv1D projections, attention by F.scaled_dot_product_attention."""

    def __init__(self, embed: int = 32, heads: int = 4) -> None:
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(embed)
        self.c_attn = Conv1D(3 * embed, embed)
        self.c_proj = Conv1D(embed, embed)
        self.ln_2 = nn.LayerNorm(embed)
        self.c_fc = Conv1D(4 * embed, embed)
        self.mlp_proj = Conv1D(embed, 4 * embed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.c_proj(y.transpose(1, 2).reshape(b, t, c))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x))))


class GPT2(nn.Module):
    """Token and position embeddings (position ids made inside forward), blocks, a final norm."""

    def __init__(self, vocab: int = 100, embed: int = 32, layers: int = 2, positions: int = 64) -> None:
        super().__init__()
        self.wte = nn.Embedding(vocab, embed)
        self.wpe = nn.Embedding(positions, embed)
        self.h = nn.ModuleList(GPT2Block(embed) for _ in range(layers))
        self.ln_f = nn.LayerNorm(embed)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        position_ids = torch.arange(input_ids.shape[-1], device=input_ids.device).unsqueeze(0)
        x = self.wte(input_ids) + self.wpe(position_ids)
        for block in self.h:
            x = block(x)
        return self.ln_f(x)


class WindowAttention(nn.Module):
    """Swin's attention: its projections through F.linear on its own parameters."""

    def __init__(self, dim: int = 24, heads: int = 3) -> None:
        super().__init__()
        self.heads = heads
        self.qkv_weight = nn.Parameter(torch.randn(3 * dim, dim) * 0.02)
        self.proj_weight = nn.Parameter(torch.randn(dim, dim) * 0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        qkv = (
            F.linear(x, self.qkv_weight).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        )
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)).softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(b, n, c)
        return F.linear(x, self.proj_weight)


class Conv3DSimple(nn.Conv3d):
    """torchvision.models.video.resnet.Conv3DSimple: an nn.Conv3d subclass with its own __init__."""

    def __init__(self, in_planes: int, out_planes: int, stride: int = 1, padding: int = 1) -> None:
        super().__init__(
            in_planes, out_planes, kernel_size=(3, 3, 3), stride=stride, padding=padding, bias=False
        )


class Video(nn.Module):
    """r3d_18's stem: Conv3DSimple layers and a pool."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = Conv3DSimple(3, 8)
        self.layer = Conv3DSimple(8, 16, stride=2)
        self.pool = nn.AdaptiveAvgPool3d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.layer(self.stem(x))).flatten(1)


class WeightNormed(nn.Module):
    """wav2vec2's positional convolution: weight norm over the kernel dimension."""

    def __init__(self, channels: int = 16) -> None:
        super().__init__()
        self.conv = nn.utils.parametrizations.weight_norm(
            nn.Conv1d(channels, channels, kernel_size=5, padding=2, groups=4), name="weight", dim=2
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.conv(x))


class Scripted(nn.Module):
    """A TorchScript submodule between plain layers (a scripted block in a larger model)."""

    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(8, 16)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.script is deprecated
            self.block = torch.jit.script(nn.Sequential(nn.Linear(16, 16), nn.ReLU()))
        self.last = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.last(self.block(self.first(x)))


class MaskReading(nn.Module):
    """A decoder that reads its attention mask's values, as transformers' Llama does: on meta the
    mask has none. ``layers`` × ``hidden``² parameters: sized by the test."""

    def __init__(self, vocab: int = 1000, hidden: int = 64, layers: int = 2) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, hidden)
        self.layers = nn.ModuleList(nn.Linear(hidden, hidden, bias=False) for _ in range(layers))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        x = self.embed_tokens(input_ids)
        if attention_mask is not None and bool((attention_mask == 0).any()):
            x = x * attention_mask.unsqueeze(-1)
        for layer in self.layers:
            x = layer(x)
        return x


class Clamped(nn.Module):
    """A forward that keeps its own parameter in range in place, as some models do at inference:
    torch refuses that with autograd on, and accepts it in inference mode."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.scale = nn.Parameter(torch.ones(8))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.scale.clamp_(0.0, 1.0)
        return self.fc(x) * self.scale


class FunctionalLSTM(nn.Module):
    """An LSTM run through torch's functional kernel on the module's own weights (as AWD-LSTM's
    weight-dropped LSTM does), outside any nn.LSTM."""

    def __init__(self, input_size: int = 8, hidden_size: int = 16) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.randn(4 * hidden_size, input_size) * 0.1)
        self.weight_hh = nn.Parameter(torch.randn(4 * hidden_size, hidden_size) * 0.1)
        self.bias_ih = nn.Parameter(torch.zeros(4 * hidden_size))
        self.bias_hh = nn.Parameter(torch.zeros(4 * hidden_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        state = torch.zeros(1, x.shape[1], self.hidden_size, dtype=x.dtype, device=x.device)
        weights = [self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh]
        out, _, _ = torch.lstm(x, (state, state), weights, True, 1, 0.0, False, False, False)
        return out


class Chain(nn.Module):
    """Linear layers one after another, of the given widths."""

    def __init__(self, widths: tuple[int, ...] = (8, 16, 4)) -> None:
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(widths))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


class ActivationReading(nn.Module):
    """A decoder that checks its activations' values, as T5's layers check theirs for inf: meta
    tensors have none, and no input carries them. ``layers`` × ``hidden``² parameters."""

    def __init__(self, vocab: int = 1000, hidden: int = 64, layers: int = 2) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, hidden)
        self.layers = nn.ModuleList(nn.Linear(hidden, hidden, bias=False) for _ in range(layers))

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        x = self.embed_tokens(input_ids)
        for layer in self.layers:
            x = layer(x)
            if torch.isinf(x).any():
                x = x.clamp(-1e4, 1e4)
        return x


class BertEmbeddings(nn.Module):
    """BERT's embeddings: input_ids index the word table, token types (zeros, made in forward) a
    table of 2. The second output's length is the largest id + 1: it shows the values drawn."""

    def __init__(self, vocab: int = 1000, hidden: int = 16) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, hidden)
        self.token_type_embeddings = nn.Embedding(2, hidden)

    def forward(self, input_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        token_type_ids = torch.zeros_like(input_ids)
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        return x, torch.zeros(int(input_ids.max()) + 1)


@dataclass
class EncoderOutput:
    """A plain dataclass output, as many libraries return (not a tuple, not a dict)."""

    last_hidden_state: torch.Tensor
    pooled: torch.Tensor | None = None


class DataclassOutput(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> EncoderOutput:
        hidden = self.fc(x)
        return EncoderOutput(hidden, hidden.mean(dim=1))


class Warns(nn.Module):
    """A forward that warns, as torch and libraries do (deprecations, fallbacks)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        warnings.warn("this forward is deprecated", UserWarning, stacklevel=1)
        return self.fc(x)
