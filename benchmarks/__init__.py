"""Performance benchmarks with same-run baselines: `python -m benchmarks [--quick] [--json OUT]`."""
