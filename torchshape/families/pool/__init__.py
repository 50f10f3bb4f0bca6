"""torchshape pool: MaxPool, AvgPool, LPPool, AdaptiveMaxPool and AdaptiveAvgPool in 1, 2 and 3 d."""
