"""Benchmarks. Run all with `make bench`, one with `make bench BENCH_ARGS=<name>`."""
