"""The embedding family: nn.Embedding and nn.EmbeddingBag (``torchshape embedding``)."""
