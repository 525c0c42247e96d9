#!/usr/bin/env python3
"""Writes examples/data/breast_cancer.csv from scikit-learn's bundled copy of the UCI Wisconsin
Diagnostic Breast Cancer data set (569 samples, 30 real-valued features, binary target).

    .venv/bin/python examples/data/export_breast_cancer.py [OUTPUT]

Output: a header line `f0,...,f29,target`, then one row per sample: the raw (unstandardised)
features printed with %.17g (so every double round-trips exactly) and the target as 0 or 1
(scikit-learn's encoding: 0 = malignant, 1 = benign). The file is deterministic: running the
script again produces the same bytes.
"""
import os
import sys

from sklearn.datasets import load_breast_cancer


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "breast_cancer.csv")
    data = load_breast_cancer()
    x, y = data.data, data.target
    assert x.shape == (569, 30), x.shape
    assert set(int(v) for v in y) == {0, 1}
    lines = [",".join([f"f{j}" for j in range(x.shape[1])] + ["target"])]
    for row, label in zip(x, y):
        lines.append(",".join("%.17g" % float(v) for v in row) + ",%d" % int(label))
    with open(out, "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {out}: {x.shape[0]} rows, {x.shape[1]} features + target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
