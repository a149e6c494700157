"""The benchmark harness: streamspec against AnyIO, Trio, asyncio and the floor.

Run it with ``make bench`` (or ``make bench-quick``); see ``benchmarks/README.md``.
"""
