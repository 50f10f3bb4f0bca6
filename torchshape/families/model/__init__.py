"""The whole-model family: ``torchshape model TARGET``, a per-layer trace of the user's model."""
