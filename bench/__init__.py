"""Benchmarks (not part of the service): run them with ``python -m bench.<name>``; see bench/README.md."""
