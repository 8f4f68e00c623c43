"""PyTorch measurement layer: works on any nn.Module."""
