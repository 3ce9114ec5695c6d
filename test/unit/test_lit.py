"""Runs each lit test file as one pytest case, so that one summary line counts both
suites (lit's own summary is not one CI reads). `lit test/lit` works on its own too."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

LIT_DIR = ROOT / "test" / "lit"
LIT_FILES = sorted(p for p in LIT_DIR.rglob("*") if p.suffix in (".mlir", ".test")
                   and "Inputs" not in p.parts and "Output" not in p.parts)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    return env


@pytest.mark.parametrize("path", LIT_FILES, ids=lambda p: str(p.relative_to(LIT_DIR)))
def test_lit(path: Path):
    lit = shutil.which("lit", path=_env()["PATH"])
    assert lit, "lit is not installed (make setup installs it)"
    proc = subprocess.run([lit, "-v", str(path)], capture_output=True, text=True, env=_env())
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
