"""The machine's CPU model name, for the benchmarks' environment records."""

from __future__ import annotations

import platform


def cpu_name() -> str:
    """The "model name" of /proc/cpuinfo, else what `platform` knows."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
