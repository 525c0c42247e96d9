"""Helpers shared by the benchmark programs (not part of the library): JSON records without NaN
tokens and the tables rendered from them (`records`), the forward-pass counter (`counters`), the
machine's CPU name (`machine`), matplotlib figures (`figures`).
A program puts ``benchmarks/`` on ``sys.path`` and imports ``benchkit.<module>``."""
