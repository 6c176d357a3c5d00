"""Deprecated: the former home of shared helpers, now only re-exports (docs/architecture.md maps the moves)."""
