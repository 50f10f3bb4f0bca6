"""Recurrent layers: nn.RNN, nn.GRU, nn.LSTM and their one-step cells (`torchshape rnn`)."""
