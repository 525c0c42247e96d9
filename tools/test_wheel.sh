#!/usr/bin/env bash
# The wheel as a user gets it: a fresh virtual environment outside the repository, `pip install`
# of the wheel alone (numpy from the index or pip's cache), then, from another directory, import,
# the library's version check, and one tuner step and one estimator run through the bundled .so.
# Then the source package without a library and without Swift: `pip install` must fail at install
# time with the message that says what to do (not later, at import).
# Usage: tools/test_wheel.sh WHEEL PYTHON
set -euo pipefail
wheel=$(readlink -f "$1")
source=$(cd "$(dirname "$0")/../bindings/python" && pwd)
python=${2:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --disable-pip-version-check -q "$wheel" "numpy==2.4.6"
cd "$work"
HESSIANLR_LIBRARY= "$work/venv/bin/python" - <<'PY'
import pathlib, sys
import numpy as np
import hessianlr as h
package = pathlib.Path(h.__file__).parent
assert (package / "libhessianlr.so").is_file(), "the wheel carries no library"
assert (package / "py.typed").is_file(), "the wheel carries no py.typed"
assert (package / "integrations" / "transformers.py").is_file(), "the wheel carries no hessianlr.integrations"
assert "site-packages" in str(package), package
tuner = h.HessianLR()
tuner.observe(0, h.Need.CURVATURE, [2.0, 4.0])
assert tuner.lr(1) > 0
H = np.diag(np.arange(1.0, 9.0))
result = h.Lanczos().run_host(8, lambda v, out: np.matmul(H, v, out=out))
assert abs(result.eigenvalues[0] - 8.0) < 1e-9, result
print(f"wheel ok: hessianlr {h.__version__} from {package}, library {h.library_version}")
PY

mkdir -p "$work/src"
cp -r "$source/hessianlr" "$source/setup.py" "$source/pyproject.toml" "$source/README.md" "$work/src/"
cp "$source/../../LICENSE" "$work/src/LICENSE"
rm -f "$work/src/hessianlr/libhessianlr.so"*
if SWIFT=/nonexistent HESSIANLR_LIBRARY= "$work/venv/bin/python" -m pip install --disable-pip-version-check \
    --no-deps "$work/src" > "$work/source.log" 2>&1; then
  echo "a source install without library or Swift succeeded"; exit 1
fi
grep -q "hessianlr: libhessianlr.so is not built and cannot be built here" "$work/source.log" || {
  tail -20 "$work/source.log"; echo "the install-time message is missing"; exit 1; }
echo "source install without library or Swift: refused at install time with instructions"
echo "2 passed, 0 failed"
