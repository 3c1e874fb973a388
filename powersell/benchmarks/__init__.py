"""The benchmarks: each a command that prints figures and writes them to BENCHMARKS.md."""
