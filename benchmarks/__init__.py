"""Benchmarks of Pānui: what a sync and a publication cost (`python benchmarks/run.py`, see BENCHMARKS.md)."""
