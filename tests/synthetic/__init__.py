"""Synthetic ultrasound for the samples, tests and benchmarks: test tooling, not part of the app."""
