"""Console tools end to end: exit codes, messages, and that perf-opt never imports torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

EXAMPLE = ROOT / "examples" / "resnet18.mlir"


def run_tool(module: str, *args: str, stdin: str | None = None):
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=300)


def test_perf_opt_does_not_import_torch():
    code = ("import sys; from tools.perf_opt import main; "
            f"rc = main([{str(EXAMPLE)!r}, '-p', 'cse', '-o', '/dev/null']); "
            "assert 'torch' not in sys.modules, 'torch imported'; sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_example_runs_through_perf_opt():
    proc = run_tool("tools.perf_opt", str(EXAMPLE), "-p", "builtin.module(cse,dce)")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("graph.conv2d") == 20


@pytest.mark.parametrize("args, message", [
    (["-p", "nope"], "unknown pass 'nope'; valid passes:"),
    (["-p", "dce{x=1}"], "pass 'dce' has no option 'x'"),
    (["--frobnicate"], "unrecognized arguments"),
])
def test_perf_opt_user_errors(args, message):
    proc = run_tool("tools.perf_opt", str(EXAMPLE), *args)
    assert proc.returncode == 1
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_verification_error_has_file_line_col(tmp_path: Path):
    bad = tmp_path / "bad.mlir"
    text = EXAMPLE.read_text().replace("stride = array<i64: 2, 2>", "stride = array<i64: 3, 3>", 1)
    bad.write_text(text)
    proc = run_tool("tools.perf_opt", str(bad))
    assert proc.returncode == 1
    first = proc.stderr.splitlines()[0]
    assert first.startswith(f"{bad}:") and ": error: 'graph.conv2d' op result shape" in first


def test_perf_import_writes_ir_and_counts_generic(tmp_path: Path):
    out = tmp_path / "mlp.mlir"
    proc = run_tool("tools.perf_import", "mlp", "--batch", "2", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "3 ops" in proc.stderr or "5 ops" in proc.stderr
    assert "0 generic ops" in proc.stderr
    assert 'loc("linear")' in out.read_text()
    again = run_tool("tools.perf_opt", str(out))
    assert again.returncode == 0 and "graph.linear" in again.stdout


def test_perf_import_unknown_model():
    proc = run_tool("tools.perf_import", "resnet19")
    assert proc.returncode == 1
    assert "unknown model 'resnet19'; valid models:" in proc.stderr and "Traceback" not in proc.stderr
