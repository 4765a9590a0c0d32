"""Benchmarks: `python -m bench.run` runs every bench_*.py module and writes bench/results/report.json."""
