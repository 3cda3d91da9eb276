"""MLflow tracking: a run per job, a parent run per sweep, nightly comparisons. mlflow is imported lazily."""
