"""Shared fixtures: the zoo is imported once per test session (torch.export is the
slow part of the suite), and the repo root is importable."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@functools.lru_cache(maxsize=None)
def imported(name: str, batch: int = 1):
    """ImportResult of a zoo model (cached across tests)."""
    from compiler.importer import import_model
    from compiler.model_zoo import build

    return import_model(build(name, batch))


def pipeline(module, stages: str):
    """A clone of `module` after the pass pipeline `stages` (perf-opt's -p text)."""
    from compiler.context import make_context
    from compiler.pipeline import build

    clone = module.clone()
    ctx = make_context()
    for p in build(stages):
        p.apply(ctx, clone)
    return clone


@pytest.fixture(scope="session")
def zoo_import():
    return imported
