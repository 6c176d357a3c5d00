"""Watching a workflow run: progress, failure diagnostics and deadlines, shared by hook, sensor and trigger."""
