"""Segment Anything (segment_anything package): builders and export wrappers."""
