#!/usr/bin/env python3
"""Installs pinned requirements with a bounded peak of disk space.

Usage: tools/pip_install.py PYTHON [pip arguments naming what to install, e.g. -r a.txt -r b.txt]

`pip install` keeps every downloaded wheel until the whole command ends. For torch's CUDA build
that is ~3 GB of wheels (torch, triton, the nvidia-* libraries) on top of the ~6 GB they unpack
to: a peak of ~9 GB where the result needs ~6 (measured with `make venv` on a fresh clone). So
pip resolves and downloads once (`pip download`: the same resolver and pins as `pip install`),
and the files are installed as NAME==VERSION with `--no-deps --no-index --find-links` (as from
the index: no direct-URL record), largest first, in batches of at most BATCH bytes (a larger
file alone), each file deleted once installed: the peak is then about the installed size plus
one batch. `pip check` verifies the result's dependencies at the end.

Environment: PIP_INSTALL_BATCH (bytes, default 512 MiB). Exit status 0, or 1 with a message
naming the pip command that failed.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile

BATCH = int(os.environ.get("PIP_INSTALL_BATCH", 512 * 2**20))


def pip(python: str, *args: str) -> None:
    command = [python, "-m", "pip", *args]
    status = subprocess.run(command).returncode
    if status != 0:
        sys.exit(f"pip_install: `{' '.join(command)}` failed with exit status {status}")


def requirement(filename: str) -> str:
    """NAME==VERSION of a wheel (``name-version-tags.whl``) or an sdist (``name-version.tar.gz``)."""
    if filename.endswith(".whl"):
        name, version = filename.split("-")[:2]
    else:
        for extension in (".tar.gz", ".zip"):
            filename = filename.removesuffix(extension)
        name, version = filename.rsplit("-", 1)
    return f"{name}=={version}"


def batches(files: list[tuple[int, str]]) -> list[list[str]]:
    """``files`` (size, path) grouped largest first into lists of at most BATCH bytes (a file
    larger than BATCH alone)."""
    groups: list[list[str]] = []
    total = BATCH
    for size, path in sorted(files, reverse=True):
        if total + size > BATCH:
            groups.append([])
            total = 0
        groups[-1].append(path)
        total += size
    return groups


def main(argv: list[str]) -> None:
    if len(argv) < 3:
        sys.exit("usage: tools/pip_install.py PYTHON [pip arguments naming what to install]")
    python, args = argv[1], argv[2:]
    with tempfile.TemporaryDirectory(prefix="pip-install-") as wheels:
        pip(python, "download", "--quiet", "--dest", wheels, *args)
        files = [(os.path.getsize(path), path) for path in (os.path.join(wheels, n) for n in os.listdir(wheels))]
        groups = batches(files)
        for group in groups:
            pip(python, "install", "--quiet", "--no-deps", "--no-index", "--find-links", wheels,
                *(requirement(os.path.basename(path)) for path in group))
            for path in group:
                os.remove(path)
    pip(python, "check")
    print(f"pip_install: {len(files)} packages in {len(groups)} pip calls, "
          f"{sum(s for s, _ in files) / 2**20:.0f} MiB downloaded")


if __name__ == "__main__":
    main(sys.argv)
