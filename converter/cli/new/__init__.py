"""`python -m converter new TARGET [key=value ...]`: a model's YAML written from the model itself."""
