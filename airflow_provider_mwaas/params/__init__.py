"""Checks of the task's parameters before any request (model-driven validation, masking of override values)."""
