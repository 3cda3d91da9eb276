"""Benchmarking an artifact against its eager model, side by side in one process."""
