"""Benchmarks of Fangkong: ``fangkong bench [--quick] [--only NAME]`` (see bench/runner.py)."""
