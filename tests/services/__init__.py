"""Real services started on loopback for the tests and the benchmarks (DESIGN §9)."""
