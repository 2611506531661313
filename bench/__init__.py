"""Benchmarks: throughput and latency of the message pipeline against a bare aiohttp baseline (see README.md)."""
