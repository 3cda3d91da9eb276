"""Patches that let `torch.jit.script` compile segment_anything, one module per library file
(as the SAM-to-TorchScript seed organised them). Each replacement computes what the original
does; validation checks that against the unpatched eager model."""
