"""Helpers shared by the benchmark programs (not part of the library): JSON records without NaN
tokens (`records`), the forward-pass counter (`counters`), the machine's CPU name (`machine`).
A program puts ``benchmarks/`` on ``sys.path`` and imports ``benchkit.<module>``."""
