"""The bytecode of an emulated sysroot, compiled natively by its twin (trixie-amd64 for trixie-arm64:
the same Debian CPython, built for this CPU), is what the emulated python would compile and load.

Executed on the prepared sysroots (`layersmith runtimes fetch`): the arm64 python runs under qemu."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from test_variants_execute import REQUIRED, sysroots_root

from layersmith.runner import SubprocessRunner
from layersmith.runtimes.sysroots import SysrootPython, Sysroots, by_name

pytestmark = pytest.mark.slow
TIMEOUT = 600
# A spread of the stdlib: the two whose pycs came out with other interning marks (argparse, functools),
# large modules, packages' __init__, and a boto3 dependency from var/runtime.
SAMPLE = ("argparse.py", "functools.py", "typing.py", "json/__init__.py", "email/_header_value_parser.py",
          "asyncio/base_events.py", "decimal.py", "collections/__init__.py")
RUNTIME_SAMPLE = ("botocore/client.py", "urllib3/connectionpool.py")


def prepared(name: str) -> SysrootPython:
    spec = by_name(name)
    assert spec is not None
    python = Sysroots(sysroots_root(), SubprocessRunner()).python(spec)
    if python is None:
        if REQUIRED:
            pytest.fail(f"sysroot {name} is not prepared; `layersmith runtimes fetch --all` prepares it")
        pytest.skip(f"not executed: sysroot {name} is not prepared here (`layersmith runtimes fetch`)")
    return python


def run(python: SysrootPython, code: str, *args: str) -> str:
    done = subprocess.run([*python.argv, "-I", "-c", code, *args], env=python.env, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


COMPILE = """
import py_compile, sys
for source, cfile in zip(sys.argv[1::2], sys.argv[2::2]):
    py_compile.compile(source, cfile=cfile, doraise=True)
"""
SAME_CODE = """
import marshal, sys, json
out = {}
for a, b in zip(sys.argv[1::2], sys.argv[2::2]):
    x, y = open(a, "rb").read(), open(b, "rb").read()
    out[a] = [x[:16] == y[:16], marshal.loads(x[16:]) == marshal.loads(y[16:])]
print(json.dumps(out))
"""


def sources(python: SysrootPython) -> list[Path]:
    stdlib = python.root / "usr" / "lib" / f"python{python.spec.dotted}"
    return [stdlib / s for s in SAMPLE] + [python.runtime_site / s for s in RUNTIME_SAMPLE]


@pytest.mark.parametrize(("emulated", "twin"), [("trixie-arm64", "trixie-amd64"), ("bookworm-arm64", "bookworm-amd64")])
def test_the_twin_compiles_what_the_emulated_python_compiles(emulated: str, twin: str, tmp_path: Path) -> None:
    """Same header (magic number, flags, source mtime and size) and equal code objects, for files of the
    arm64 sysroot compiled by the arm64 python under qemu and by the amd64 twin natively."""
    arm, amd = prepared(emulated), prepared(twin)
    assert arm.version == amd.version and arm.emulated and not amd.emulated
    files = sources(arm)
    for compiler, tag in ((arm, "qemu"), (amd, "native")):
        args = [str(x) for f in files for x in (f, tmp_path / tag / f"{f.parent.name}-{f.name}c")]
        (tmp_path / tag).mkdir()
        run(compiler, COMPILE, *args)
    compared = [str(x) for f in files for x in (tmp_path / "qemu" / f"{f.parent.name}-{f.name}c",
                                                   tmp_path / "native" / f"{f.parent.name}-{f.name}c")]
    for loader in (arm, amd):  # each loads both and finds them equal
        verdicts = json.loads(run(loader, SAME_CODE, *compared))
        assert len(verdicts) == len(files) and all(v == [True, True] for v in verdicts.values()), verdicts


VALID = """
import importlib.util, os, sys, json
bad, seen = [], 0
for top in sys.argv[1:]:
    for dirpath, dirs, files in os.walk(top):
        if os.path.basename(dirpath) != "__pycache__":
            continue
        for name in files:
            if not name.endswith(".cpython-%d%d.pyc" % sys.version_info[:2]):
                continue
            source = os.path.join(os.path.dirname(dirpath), name.split(".")[0] + ".py")
            if not os.path.exists(source):
                continue
            seen += 1
            head = open(os.path.join(dirpath, name), "rb").read(16)
            st = os.stat(source)
            fresh = (head[:4] == importlib.util.MAGIC_NUMBER and head[4:8] == bytes(4)
                     and int.from_bytes(head[8:12], "little") == int(st.st_mtime) & 0xFFFFFFFF
                     and int.from_bytes(head[12:16], "little") == st.st_size & 0xFFFFFFFF)
            if not fresh:
                bad.append(source)
print(json.dumps({"seen": seen, "bad": bad[:5]}))
"""


@pytest.mark.parametrize("name", ["trixie-arm64", "bookworm-arm64"])
def test_the_emulated_python_finds_its_precompiled_stdlib_fresh(name: str) -> None:
    """Every pyc of the stdlib, boto3 and pip passes the emulated python's own freshness check (its magic
    number, the source's mtime and size): it loads them instead of compiling again at each start."""
    python = prepared(name)
    tops = [python.root / "usr" / "lib" / f"python{python.spec.dotted}", python.runtime_site]
    result = json.loads(run(python, VALID, *map(str, tops)))
    assert result["seen"] > 500 and result["bad"] == [], result

