"""``torchshape norm``: nn.BatchNorm, LayerNorm, GroupNorm, InstanceNorm and RMSNorm."""
