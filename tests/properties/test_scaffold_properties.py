"""`layersmith init`'s scaffolds as properties: for every name the spec parsers accept (and that
`discover` would find), with any runtimes and architectures Lambda offers, what `init` returns
loads with `specs.load_layer` / `specs.load_function` as written, its package imports as itself,
and a function scaffold fits every layer it names."""

from __future__ import annotations

import datetime as dt
import keyword
import sys
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from layersmith.commands.init import write_scaffold
from layersmith.project.scaffold import function_scaffold, layer_scaffold, offered, package_name
from layersmith.project.specs import load_function, load_layer
from layersmith.runtimes.supported import ARCHITECTURES

TODAY = dt.date(2026, 12, 7)
# Lambda's alphabet, 1-48 characters, not starting with '_' (discover skips those)
NAMES = st.from_regex(r"\A[A-Za-z0-9-][A-Za-z0-9_-]{0,47}\Z")
RUNTIMES = st.lists(st.sampled_from(offered(TODAY)), min_size=1, unique=True)
ARCHS = st.lists(st.sampled_from(ARCHITECTURES), min_size=1, unique=True)


@given(NAMES)
def test_the_package_is_an_identifier_that_shadows_nothing(name: str) -> None:
    package = package_name(name)
    assert package.isidentifier() and not keyword.iskeyword(package)
    assert package not in sys.stdlib_module_names and package not in ("boto3", "botocore", "s3transfer")


@given(NAMES, RUNTIMES, ARCHS, st.data())
def test_scaffolds_load_with_the_spec_parsers(name: str, runtimes: list[str], archs: list[str],
                                              data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        layer = load_layer(write_scaffold(root, layer_scaffold(name, TODAY, runtimes, archs)))
        assert (layer.name, list(layer.runtimes), list(layer.architectures)) == (name, runtimes, archs)
        assert layer.source is not None and (layer.source / package_name(name) / "__init__.py").is_file()
        runtime = data.draw(st.sampled_from(runtimes) | st.none())
        arch = data.draw(st.sampled_from(archs) | st.none())
        fn = load_function(write_scaffold(root, function_scaffold(name, [layer], TODAY, runtime, arch)))
        assert fn.name == name and fn.layers == (name,)
        assert fn.runtime in layer.runtimes and fn.architecture in layer.architectures
        assert fn.runtime == (runtime or max(runtimes, key=offered(TODAY).index))
