"""The project's fleets: models as people bring them, one YAML each, with published pass rates."""
