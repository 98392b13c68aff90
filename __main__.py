"""Pulumi entry point (`pulumi up` runs this). Composition only: see layersmith/infra/program.py."""

from pathlib import Path

from layersmith.infra.program import main

main(Path(__file__).resolve().parent)
