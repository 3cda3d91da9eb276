"""converter: declarative batch conversion of PyTorch models (torch.export, TorchScript)."""

__version__ = "0.1.0"
