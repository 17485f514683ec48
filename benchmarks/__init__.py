"""Benchmarks of the provider beside their baselines, against the emulator in its own process.

Run with ``make bench``; see ``benchmarks/README.md`` and ``benchmarks/RESULTS.md``.
"""
