"""Support for model libraries' own types, one module per library (see converter/library_types.py)."""
