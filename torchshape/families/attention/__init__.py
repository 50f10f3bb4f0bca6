"""The attention family: nn.MultiheadAttention."""
