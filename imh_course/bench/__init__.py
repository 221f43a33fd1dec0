"""Synthetic data at statewide scale for the benchmark harness (bench/run.py)."""
