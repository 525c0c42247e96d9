"""What the kernel benchmarks record about the machine: CPU, cores, numpy's BLAS."""

from __future__ import annotations

import os
import sys

from threadpoolctl import threadpool_info

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # benchkit
from benchkit.machine import cpu_name  # noqa: E402


def describe():
    """{"cpu", "cores", "blas"}; warns when an OpenBLAS override that can pin a slower kernel is set."""
    for variable in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if variable in os.environ:
            print(f"warning: {variable}={os.environ[variable]} is set; numpy may use a slower kernel",
                  file=sys.stderr)
    blas = [f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} ({i.get('num_threads')} threads)"
            for i in threadpool_info()]
    return {"cpu": cpu_name(), "cores": os.cpu_count(), "blas": "; ".join(blas) or "none"}
