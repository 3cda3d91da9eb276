"""Patches that let `torch.jit.script` compile segment_anything, one module per library file
(segment_anything/modeling/image_encoder.py, prompt_encoder.py, ...; segment-anything 1.0). Each replacement computes what the original
does; validation checks that against the unpatched eager model."""
