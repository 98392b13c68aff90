"""What a build reads without importing packaging (issue 25: `packaging.utils` pulls in `packaging.tags` and
`packaging.version`, ~15 ms of every `layersmith build`), against packaging itself as the reference."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import example, given
from hypothesis import strategies as st
from packaging.tags import parse_tag
from packaging.utils import canonicalize_name as reference

from layersmith.builder.verify import _every_python3_loads
from layersmith.names import canonicalize_name
from layersmith.runtimes.supported import ARCHITECTURES, RUNTIMES, supported_tags


@given(st.from_regex(r"[A-Za-z0-9._-]{0,12}", fullmatch=True) | st.text(max_size=12))
@example("Foo__Bar..baz--Qux")
@example("-_.")
def test_canonical_names_are_packagings(name: str) -> None:
    assert canonicalize_name(name) == reference(name)


_parts = st.lists(st.sampled_from(["py3", "py2", "py311", "cp311", "py30", "none", "any", "abi3", "cp312",
                                   "manylinux2014_x86_64", "PY3", "linux_x86_64"]), min_size=1, max_size=3)


@given(interpreters=_parts, abis=_parts, platforms=_parts)
@example(interpreters=["py2", "py3"], abis=["none"], platforms=["any"])
@example(interpreters=["py3"], abis=["none"], platforms=["any"])
def test_a_tag_taken_without_the_tag_tables_is_one_every_runtime_accepts(
        interpreters: list[str], abis: list[str], platforms: list[str]) -> None:
    tag = "-".join(".".join(p) for p in (interpreters, abis, platforms))
    if _every_python3_loads(tag):
        for runtime in RUNTIMES:
            for arch in ARCHITECTURES:
                assert set(parse_tag(tag)) & supported_tags(runtime, arch), (tag, runtime, arch)


def test_checking_a_pure_wheel_imports_no_tag_table(tmp_path: object) -> None:
    probe = ("import sys, pathlib, tempfile\n"
             "from layersmith.builder.verify import check_wheel_tags\n"
             "from layersmith.model import Variant\n"
             "site = pathlib.Path(tempfile.mkdtemp()) / 'site'\n"
             "(site / 'pytz-2024.1.dist-info').mkdir(parents=True)\n"
             "(site / 'pytz-2024.1.dist-info' / 'WHEEL').write_text('Tag: py2-none-any\\nTag: py3-none-any\\n')\n"
             "check_wheel_tags(site, Variant('demo', ('python3.11',), ('x86_64',), False))\n"
             "import layersmith.builder.builder, layersmith.commands.build\n"
             "print(sorted(m for m in sys.modules if m.startswith('packaging')))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
