"""The layer families torchshape knows, one folder each."""
