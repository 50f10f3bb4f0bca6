"""The expr family: the shape and dtype of a tensor expression, a row per sub-expression with the
rule that decides it, every row checked by torch (``torchshape expr``)."""
