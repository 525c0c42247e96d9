"""Loading the library: the version check, $HESSIANLR_LIBRARY and clear ImportErrors."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

import hessianlr
from hessianlr import _lib

from conftest import HEADER, REPO_ROOT, header_macros


def run_python(code: str, env_var: str | None, tmp_path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop(_lib.ENV_VAR, None)
    if env_var is not None:
        env[_lib.ENV_VAR] = env_var
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )


def test_loaded_version_matches_header():
    macros = header_macros()
    assert _lib.HEADER_VERSION_MAJOR == macros["HLR_VERSION_MAJOR"]
    assert _lib.HEADER_VERSION_MINOR == macros["HLR_VERSION_MINOR"]
    assert _lib.HEADER_VERSION_PATCH == macros["HLR_VERSION_PATCH"]
    assert f'#define HLR_VERSION_STRING "{_lib.HEADER_VERSION_STRING}"' in HEADER.read_text()
    number = _lib.HEADER_VERSION_NUMBER
    assert number == macros["HLR_VERSION_MAJOR"] * 10000 + macros["HLR_VERSION_MINOR"] * 100 + macros["HLR_VERSION_PATCH"]
    assert hessianlr.library_version_number >= number
    assert hessianlr.library_version_number // 10000 == _lib.HEADER_VERSION_MAJOR
    assert hessianlr.library_version == _lib.lib.hlr_version_string().decode()
    assert hessianlr.__version__ == _lib.HEADER_VERSION_STRING
    pyproject = (REPO_ROOT / "bindings" / "python" / "pyproject.toml").read_text()
    assert f'\nversion = "{hessianlr.__version__}"\n' in pyproject


_HEADER = _lib.HEADER_VERSION_NUMBER  # major*10000 + minor*100 + patch of the bound header
_NEXT_MAJOR = (_HEADER // 10000 + 1) * 10000


def _shown(number: int) -> str:
    return f"{number // 10000}.{number // 100 % 100}.{number % 100}"


@pytest.mark.parametrize("number", [_HEADER, _HEADER + 1, _HEADER + 99, _HEADER + 100, _NEXT_MAJOR - 1])
def test_version_check_accepts_same_major_not_older(number):
    _lib.check_version(number)


@pytest.mark.parametrize("number", [_HEADER - 1, _HEADER - 100, 0, _NEXT_MAJOR, _NEXT_MAJOR + 300])
def test_version_check_refuses_other_major_or_older(number):
    with pytest.raises(ImportError) as info:
        _lib.check_version(number)
    assert _shown(number) in str(info.value) and _lib.HEADER_VERSION_STRING in str(info.value)


def test_every_header_function_has_a_prototype():
    typedefs = set(re.findall(r"\(\s*\*\s*(hlr_\w+)\s*\)", HEADER.read_text()))
    assert typedefs >= {"hlr_hvp_f32", "hlr_hvp_f64", "hlr_loss_f32", "hlr_loss_f64"}
    declared = set(re.findall(r"\b(hlr_\w+)\s*\(", HEADER.read_text())) - typedefs
    # callback typedefs appear as "(*hlr_hvp_f32)"; everything else is a function
    assert declared == set(_lib.PROTOTYPES), declared ^ set(_lib.PROTOTYPES)
    for name, (restype, argtypes) in _lib.PROTOTYPES.items():
        function = getattr(_lib.lib, name)
        assert function.restype is restype and function.argtypes == argtypes, name


def test_env_var_path_is_used(tmp_path):
    copy = tmp_path / "copy" / "libhessianlr-custom.so"
    copy.parent.mkdir()
    shutil.copy(_lib.library_path, copy)
    result = run_python(
        "import hessianlr; print(hessianlr.library_path); print(hessianlr.library_version)", str(copy), tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(copy), hessianlr.library_version]


def test_bad_env_var_path_gives_clear_import_error(tmp_path):
    missing = tmp_path / "nowhere" / "libhessianlr.so"
    result = run_python("import hessianlr", str(missing), tmp_path)
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert str(missing) in result.stderr and "HESSIANLR_LIBRARY" in result.stderr
    assert "no such file" in result.stderr


def test_env_var_pointing_at_a_non_library_gives_import_error(tmp_path):
    result = run_python("import hessianlr", str(HEADER), tmp_path)
    assert result.returncode != 0
    assert "ImportError" in result.stderr and str(HEADER) in result.stderr


def test_foreign_library_with_other_major_is_refused(tmp_path):
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        pytest.skip("no C compiler to build a fake library")
    stubs = "\n".join(f"int {name}(void) {{ return 0; }}" for name in _lib.PROTOTYPES
                      if name not in ("hlr_version_number", "hlr_version_string"))
    source = tmp_path / "fake.c"
    source.write_text(
        'unsigned hlr_version_number(void) { return 20300; }\n'
        'const char *hlr_version_string(void) { return "2.3.0"; }\n' + stubs + "\n"
    )
    fake = tmp_path / "libfake.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(fake), str(source)], check=True)
    result = run_python("import hessianlr", str(fake), tmp_path)
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert "2.3.0" in result.stderr and _lib.HEADER_VERSION_STRING in result.stderr


def test_import_does_not_import_torch(tmp_path):
    result = run_python("import sys, hessianlr; print('torch' in sys.modules)", None, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_repo_layout_is_found():
    assert (REPO_ROOT / "Makefile").exists()


def _ctype_of(c_type: str):
    """The ctypes type this binding uses for a C parameter or return type of the header."""
    from ctypes import POINTER, c_char_p, c_double, c_float, c_int, c_size_t, c_uint, c_uint64, c_void_p

    t = " ".join(c_type.replace("*", " * ").split())
    t = t.replace("const ", "").replace(" const", "")
    scalars = {"int": c_int, "unsigned": c_uint, "size_t": c_size_t, "uint64_t": c_uint64, "double": c_double,
               "float": c_float}
    callbacks = {"hlr_hvp_f32": _lib.HVP_F32, "hlr_hvp_f64": _lib.HVP_F64,
                 "hlr_loss_f32": _lib.LOSS_F32, "hlr_loss_f64": _lib.LOSS_F64}
    handles = {"hlr_tuner", "hlr_schedule", "hlr_estimator"}
    enums = set(re.findall(r"typedef\s+enum\s+(hlr_\w+)\s*\{", HEADER.read_text()))  # int-sized ids
    if t in scalars:
        return scalars[t]
    if t in enums:
        return c_int
    if t in callbacks:
        return callbacks[t]
    if t == "char *":
        return c_char_p
    if t == "void *":
        return c_void_p
    if t == "hlr_vector_ops *":
        return POINTER(_lib.VectorOps)
    if t == "hlr_param_desc *":
        return POINTER(_lib.ParamDesc)
    if t == "hlr_step_ops *":
        return POINTER(_lib.StepOps)
    base, _, stars = t.partition(" ")
    if base in handles:
        return c_void_p if stars == "*" else POINTER(c_void_p)  # hlr_x * / hlr_x ** / hlr_x * *
    if stars == "*" and base in scalars:
        return POINTER(scalars[base])
    raise AssertionError(f"no ctypes mapping for C type {c_type!r}")


def test_prototypes_match_the_header_signatures():
    """Each PROTOTYPES entry has the argument and return types of the header's declaration."""
    text = re.sub(r"/\*.*?\*/", " ", HEADER.read_text(), flags=re.S)
    declarations = re.findall(r"^(int|unsigned|const char \*)\s*(hlr_\w+)\s*\(([^;]*?)\)\s*;", text, re.M)
    assert {name for _, name, _ in declarations} == set(_lib.PROTOTYPES)
    for returns, name, params in declarations:
        restype, argtypes = _lib.PROTOTYPES[name]
        assert restype is _ctype_of(returns), name
        params = " ".join(params.split())
        expected = [] if params == "void" else [_ctype_of(re.sub(r"\s*\w+$", "", p.strip())) for p in params.split(",")]
        assert len(argtypes) == len(expected), name
        for position, (ours, theirs) in enumerate(zip(argtypes, expected)):
            assert ours is theirs, (name, position, ours, theirs)
