"""SAM 2 (sam2 package): an offline builder and export wrappers."""
