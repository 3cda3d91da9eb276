"""Diagnosis of failed jobs: a category, where, a one-paragraph hint and the overrides that fix it."""

from converter.diagnosis.categories import CATEGORIES, Diagnosis, FailureContext, diagnose

__all__ = ["CATEGORIES", "Diagnosis", "FailureContext", "diagnose"]
