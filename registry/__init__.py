"""Per-model code that configs point at: loaders, wrappers, patches, input factories."""
