"""nn.TransformerEncoderLayer, nn.TransformerDecoderLayer and nn.Transformer: ``torchshape transformer``."""
