"""Support for model libraries' own types, one module per library (see converter/tensors/library_types.py)."""
