"""`layersmith cache prune`: what no current spec or lock can produce goes; the rest stays usable."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fakes import FakeInstaller
from helpers import lock_text, write_layer

from layersmith.builder.builder import Builder
from layersmith.builder.cache import BuildCache
from layersmith.builder.cache_prune import execute, plan_cache_prune
from layersmith.builder.pieces import PieceStore
from layersmith.cli import main
from layersmith.model import BuildResult, LayerSpec, expand_variants
from layersmith.project.specs import load_layer, load_layers


def _build(spec: LayerSpec, cache: BuildCache) -> BuildResult:
    [variant] = expand_variants(spec)
    return Builder(FakeInstaller(), cache).build(spec, variant)


def test_prune_removes_deleted_layers_old_locks_and_their_pieces(project: Path, cache: BuildCache) -> None:
    demo = load_layer(write_layer(project, "demo", pins=("alpha==1.0", "beta==1.0")))
    old = _build(demo, cache)
    assert demo.requirements is not None
    demo.requirements.write_text(lock_text("alpha==1.0", "beta==2.0"), encoding="utf-8")
    current = _build(demo, cache)
    gone_dir = write_layer(project, "gone", pins=("gamma==1.0",))
    gone = _build(load_layer(gone_dir), cache)
    shutil.rmtree(gone_dir)  # the layer was deleted from the project
    store = PieceStore(cache.root)
    assert len(list(store.keys())) == 4  # alpha, beta 1.0, beta 2.0, gamma

    plan = plan_cache_prune(cache, load_layers(project), [FakeInstaller()])
    assert sorted(plan.entries) == sorted([old.zip_path.parent, gone.zip_path.parent])
    assert len(plan.pieces) == 2 and (plan.kept_entries, plan.kept_pieces) == (1, 2)
    assert execute(cache, plan) > 0
    assert not old.zip_path.exists() and not (cache.root / "gone").exists()
    assert len(list(store.keys())) == 2
    # what is left is still a complete, usable cache: the current lock is a hit, the bump rebuilds from pieces
    again = _build(demo, cache)
    assert again.cached and again.sha256 == current.sha256
    demo.requirements.write_text(lock_text("alpha==1.0", "beta==1.0"), encoding="utf-8")
    rebuilt = _build(demo, cache)
    assert (rebuilt.pieces_reused, rebuilt.pieces_built) == (1, 1) and rebuilt.sha256 == old.sha256


def test_a_layer_whose_lock_cannot_be_read_is_left_alone(project: Path, cache: BuildCache) -> None:
    demo = load_layer(write_layer(project, "demo", pins=("alpha==1.0",)))
    built = _build(demo, cache)
    assert demo.requirements is not None
    demo.requirements.write_text("alpha>=1\n", encoding="utf-8")
    plan = plan_cache_prune(cache, load_layers(project), [FakeInstaller()])
    assert plan.entries == [] and plan.pieces == [] and plan.kept_entries == 1
    assert plan.notes and plan.notes[0].startswith("demo: kept as is (")
    assert built.zip_path.exists()


def test_cache_prune_cli_dry_run_removes_nothing(project: Path, cache: BuildCache, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    demo = load_layer(write_layer(project, "demo", pins=("alpha==1.0",)))
    built = _build(demo, cache)  # with the fake installer: no host or docker build has this key
    monkeypatch.setenv("LAYERSMITH_CACHE_DIR", str(cache.root))
    assert main(["--project", str(project), "cache", "prune", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would remove 1 variant build(s) and 1 piece(s)" in out and built.zip_path.exists()
    assert main(["--project", str(project), "cache", "prune"]) == 0
    assert "removed 1 variant build(s) and 1 piece(s)" in capsys.readouterr().out
    assert not built.zip_path.exists()


def test_prune_never_touches_the_sysroots_or_function_zips_that_share_the_cache(project: Path,
                                                                                   cache: BuildCache) -> None:
    """`runtimes fetch` puts the Debian userlands in `<cache>/sysroots` (without LAYERSMITH_SYSROOTS), and the
    program packages functions into `<cache>/functions`: neither is a layer's build output."""
    demo = load_layer(write_layer(project, "demo", pins=("alpha==1.0",)))
    _build(demo, cache)
    for rel in ("sysroots/trixie-amd64/usr/bin/python3.13", "sysroots/qemu/qemu-aarch64",
                "functions/report/0123456789abcdef.zip"):
        (cache.root / rel).parent.mkdir(parents=True, exist_ok=True)
        (cache.root / rel).write_bytes(b"kept")
    plan = plan_cache_prune(cache, load_layers(project), [FakeInstaller()])
    assert plan.entries == [] and plan.kept_entries == 1
    execute(cache, plan)
    assert (cache.root / "sysroots/trixie-amd64/usr/bin/python3.13").is_file()
    assert (cache.root / "sysroots/qemu/qemu-aarch64").is_file()
    assert (cache.root / "functions/report/0123456789abcdef.zip").is_file()
