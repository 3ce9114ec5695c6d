"""Re-score stored perf-validate measurements with the current model: no timing, so a
change to the CPU model can be checked against real runs without a quiet machine.

Each row of a `perf-validate --json` file keeps its measured latency; the model is
re-imported at the row's batch and re-estimated with the pipeline perf-validate used
(eager or compiled, the file's calibration unless --calibration overrides it), for the
machine the file recorded: `device=host` is rebuilt from the file's machine block, not probed,
so runs stored on one machine can be re-scored on another.

    .venv/bin/python bench/rescore_host_validation.py targets/measurements/ci-host-2core/*.json
    .venv/bin/python bench/rescore_host_validation.py FILE --calibration none
    .venv/bin/python bench/rescore_host_validation.py FILE --bands-only
    .venv/bin/python bench/rescore_host_validation.py FILE --calibration none --clock-ghz measured
    .venv/bin/python bench/rescore_host_validation.py FILE --write     # store the estimates

Rows measured on a CUDA GPU (`perf-validate --device cuda`, the file's `gpu` block) are
estimated with map-gpu for the catalog device recorded there.

--clock-ghz sets map-cpu's clock: a number in GHz, or `measured` for the clock the cores ran
at right before the file's rows (perf-validate times it; files stored before it did take
their calibration's), so with --calibration none: the datasheet figures at the clock the
machine really ran, which a VM's /proc/cpuinfo hides.

--bands-only drops the calibration's benchmarks of exactly a kernel's shape, so every kernel
reads its efficiency from the FLOP bands: how the calibration does on shapes it never ran
(the suite's shapes come from the zoo).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


@functools.lru_cache(maxsize=None)
def imported(model: str, batch: int):
    from compiler.importer import import_model
    from compiler.model_zoo import build

    return import_model(build(model, batch)).module


def rescore(result: dict, calibration: str | None, clock_ghz: float | None = None) -> dict:
    """The same result document with predictions, errors and MAPE of the current model."""
    from unittest import mock

    from compiler.calibrate.machine import host_info

    recorded = host_info(result["machine"])
    with mock.patch("targets.host.probe", lambda: recorded):
        return _rescore(result, calibration, clock_ghz)


def _rescore(result: dict, calibration: str | None, clock_ghz: float | None) -> dict:
    from compiler.validate import estimate_clock, mean_abs_error, predict, relative_error
    from targets.calibration import load

    pinned = (result.get("allocator") or "default").startswith("pinned")
    gpu = (result.get("gpu") or {}).get("catalog_device")   # rows measured on a CUDA GPU
    rows = []
    for row in result["rows"]:
        row = dict(row)
        if row.get("measured_s"):
            module = imported(row["model"], row["batch"])
            row["predicted_s"] = predict(module, row["precision"], row["runtime"], calibration,
                                         pinned, gpu, clock_ghz)["latency_s"]
            row["error"] = relative_error(row["predicted_s"], row["measured_s"])
            row["abs_error"] = abs(row["error"])
            # beside a calibrated estimate, perf-validate's datasheet one
            row["datasheet_predicted_s"] = predict(
                module, row["precision"], row["runtime"], None, pinned, gpu,
                clock_ghz)["latency_s"] if calibration else None
            row["datasheet_error"] = relative_error(row["datasheet_predicted_s"], row["measured_s"])
        rows.append(row)
    calibrated_hz = load(calibration).clock_hz if calibration else None
    return dict(result, rows=rows, calibration=calibration, clock_ghz=clock_ghz, measure_only=False,
                datasheet_mape=mean_abs_error(r.get("datasheet_error") for r in rows),
                estimate_clock=estimate_clock(result["machine"]["clock_hz_reported"],
                                              calibrated_hz, clock_ghz, gpu),
                mape=mean_abs_error(r.get("error") for r in rows),
                failed=sum(1 for r in rows if r.get("error") is None))


def measured_clock_ghz(result: dict) -> tuple[float | None, str]:
    """The clock the cores ran at before the rows (perf-validate's own reading), else the
    one the run's calibration measured, in GHz, and which of the two it is."""
    from targets.calibration import load

    before = next(iter((result.get("conditions") or {}).get("clock_hz_measured") or []), None)
    if before:
        return before / 1e9, "measured before the rows"
    cal = load(result["calibration"]).clock_hz if result.get("calibration") else None
    return (cal / 1e9 if cal else None), "the calibration's measured clock"


def bands_only(path: str) -> str:
    """A copy of calibration `path` (under build/) without its benchmark list, from which
    the exact-shape lookup is built; the bands, measured from the same runs, stay."""
    doc = json.loads(Path(path).read_text())
    doc["benchmarks"] = []
    out = ROOT / "build" / "rescore" / f"bands-only-{Path(path).name}"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc))
    return str(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", metavar="FILE", help="perf-validate --json output")
    parser.add_argument("--calibration", help="calibration file, or 'none' (default: each file's)")
    parser.add_argument("--bands-only", action="store_true",
                        help="ignore the calibration's exact-shape benchmarks (FLOP bands only)")
    parser.add_argument("--write", action="store_true",
                        help="store the estimates, errors and MAPE in each file (a file from "
                             "perf-validate --measure-only gets its estimates this way)")
    parser.add_argument("--clock-ghz", metavar="GHZ|measured",
                        help="map-cpu's clock: GHz, or `measured` (each run's own reading, "
                             "else its calibration's)")
    args = parser.parse_args()
    from compiler.validate_table import table

    for path in args.files:
        with open(path) as stream:
            result = json.load(stream)
        cal = result.get("calibration") if args.calibration is None else (
            None if args.calibration == "none" else args.calibration)
        was = result.get("mape")
        if cal and args.bands_only:
            cal = bands_only(cal)
        clock = args.clock_ghz
        if clock == "measured":
            clock, source = measured_clock_ghz(result)
            if not clock:
                sys.exit(f"error: {path}: --clock-ghz measured needs a clock the run or its "
                         f"calibration measured")
        elif clock is not None:
            try:
                clock = float(clock)
            except ValueError:
                sys.exit(f"error: --clock-ghz takes a number in GHz or `measured`, not {clock!r}")
        now = rescore(result, cal, clock)
        if clock:
            print(f"clock set to {clock:.3f} GHz" + (f" ({source})" if args.clock_ghz == "measured" else ""))
        print(f"== {path} (measured {result.get('date', '?')}, allocator {result.get('allocator')})")
        sys.stdout.write(table(now))
        if was is not None and now["mape"] is not None:
            print(f"MAPE when measured {was * 100:.1f}%, with the current model {now['mape'] * 100:.1f}%")
        if args.write:
            Path(path).write_text(json.dumps(now, indent=1) + "\n")
            print(f"wrote the estimates into {path}")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
