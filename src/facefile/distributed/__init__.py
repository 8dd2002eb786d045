"""Scans beyond one machine: the same per-file step as the local pipeline, run as Ray tasks."""
