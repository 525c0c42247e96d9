"""Build hooks of the hessianlr package (metadata: pyproject.toml).

The package is pure Python over ctypes, but it ships ``libhessianlr.so``, so:

- ``build_py`` puts the library into the package: the copy ``make python-package`` left next to
  ``__init__.py``, else ``$HESSIANLR_LIBRARY``, else a fresh build with the Swift toolchain
  (``make -C <repository> lib``, the one place that knows the build flags). Without any of these
  the install fails here, at install time, saying what to do (editable installs skip this: the
  Makefile copies the library into the source tree).
- ``bdist_wheel`` tags the wheel for the platform the library was built for
  (``py3-none-linux_x86_64``; ``make wheel`` repairs it to a manylinux tag with auditwheel),
  never ``py3-none-any``.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sysconfig

from setuptools import Distribution, setup
from setuptools.command.bdist_wheel import bdist_wheel  # setuptools >= 70.1 (pyproject.toml)
from setuptools.command.build_py import build_py

HERE = pathlib.Path(__file__).resolve().parent
REPOSITORY = HERE.parent.parent
LIBRARY = "libhessianlr.so"


def _swift() -> str | None:
    """$SWIFT when set (an explicit choice never falls back), else swift on PATH or /opt/swift."""
    if "SWIFT" in os.environ:
        candidates = [os.environ["SWIFT"]]
    else:
        candidates = [shutil.which("swift"), "/opt/swift/usr/bin/swift"]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _library() -> pathlib.Path:
    """The library to ship, building it if needed; SystemExit with instructions otherwise."""
    local = HERE / "hessianlr" / LIBRARY
    if local.is_file():
        return local
    explicit = os.environ.get("HESSIANLR_LIBRARY")
    if explicit:
        path = pathlib.Path(explicit)
        if not path.is_file():
            raise SystemExit(f"hessianlr: HESSIANLR_LIBRARY={explicit} is not a file")
        return path
    swift = _swift()
    makefile = REPOSITORY / "Makefile"
    if swift is None or not makefile.is_file() or shutil.which("make") is None:
        raise SystemExit(
            "hessianlr: libhessianlr.so is not built and cannot be built here "
            f"({'no Swift toolchain found (swift on PATH, $SWIFT or /opt/swift)' if swift is None else 'no repository Makefile or make'}).\n"
            "Install a prebuilt wheel (`make wheel` in the repository), set HESSIANLR_LIBRARY to a built "
            "libhessianlr.so, or install Swift 6 and run `make python-package` first.")
    subprocess.run(["make", "-C", str(REPOSITORY), "lib", f"SWIFT={swift}"], check=True)
    return REPOSITORY / "build" / "lib" / LIBRARY


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = pathlib.Path(self.build_lib) / "hessianlr" / LIBRARY
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_library().resolve(), target)


class BinaryDistribution(Distribution):
    """Carries a native library: the wheel's root is platlib (Root-Is-Purelib: false)."""

    def has_ext_modules(self):
        return True


class PlatformWheel(bdist_wheel):
    def get_tag(self):
        return "py3", "none", sysconfig.get_platform().replace("-", "_").replace(".", "_")


setup(distclass=BinaryDistribution, cmdclass={"build_py": BuildWithLibrary, "bdist_wheel": PlatformWheel})
