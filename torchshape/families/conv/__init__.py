"""The convolution family: nn.Conv1d/2d/3d and nn.ConvTranspose1d/2d/3d."""
