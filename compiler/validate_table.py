"""perf-validate's table: the result of compiler/validate.validate (or of a re-score)
rendered as predicted vs measured rows, the MAPE, and the lines on what the machine did
meanwhile (rounds that disagree, memory speed, clock, drift from the calibration)."""

from __future__ import annotations

from compiler.validate import estimate_clock, mean_abs_error


def clock_line(result: dict) -> str | None:
    """What clock the cores ran at during the run (before and after the rows) beside the one
    the OS reports and the one the estimates used; None when no clock was measured."""
    measured = [c for c in (result.get("conditions") or {}).get("clock_hz_measured") or [] if c]
    if not measured:
        return None
    reported = (result.get("machine") or {}).get("clock_hz_reported")
    when = "before and after the rows" if len(measured) > 1 else "before the rows"
    text = ("clock: the cores ran at " + " and ".join(f"{c / 1e9:.2f}" for c in measured)
            + f" GHz ({when})")
    if reported:
        text += f"; the OS reports {reported / 1e9:.2f}"
    used = result.get("estimate_clock") or {}
    if used.get("hz"):
        text += f"; estimates at {used['hz'] / 1e9:.2f} ({used['source']})"
    return text


def _ms(value: float | None) -> str:
    return f"{value * 1e3:10.3f}" if value is not None else f"{'-':>10}"


def table(result: dict) -> str:
    """Predicted vs measured, one row per configuration, and the MAPE. `faults MB` is the
    memory first touched per run (minor page faults x 4 KiB): time the model does not see.
    `mem` is the DRAM copy rate timed right before the row over the calibration's (else
    over the run's first copy): a VM's memory slows with its neighbours, which neither the
    CPU utilization nor the reference GEMM shows. A calibrated run also gives each row's
    estimate from the datasheet figures alone (`datasheet ms`): at the clock the OS reports,
    or at --clock-ghz's as the calibrated one."""
    datasheet = any(r.get("datasheet_predicted_s") for r in result["rows"])
    head = (f"{'model':<20} {'batch':>5} {'prec':<5} {'runtime':<8} {'measured ms':>11} "
            f"{'predicted ms':>12} {'error':>8} "
            + (f"{'datasheet ms':>12} {'error':>8} " if datasheet else "")
            + f"{'util':>5} {'mem':>5} {'faults MB':>9} {'busy':>4}")
    lines = [head, "-" * len(head)]

    def percent(error: float | None) -> str:
        return f"{error * 100:+7.1f}%" if error is not None else f"{'-':>8}"

    for r in result["rows"]:
        err = percent(r["error"])
        if datasheet:
            err += f" {_ms(r.get('datasheet_predicted_s')):>12} {percent(r.get('datasheet_error'))}"
        util = f"{r['cpu_utilization']:.2f}" if r.get("cpu_utilization") is not None else "-"
        mem = memory_speed(result, r)
        mem = f"{mem:.2f}" if mem is not None else "-"
        faults = r.get("page_faults_per_run")
        faults = f"{faults * 4096 / 1e6:.0f}" if faults is not None else "-"
        lines.append(f"{r['model']:<20} {r['batch']:>5} {r['precision']:<5} {r['runtime']:<8} "
                     f"{_ms(r['measured_s']):>11} {_ms(r['predicted_s']):>12} {err} {util:>5} "
                     f"{mem:>5} {faults:>9} {'yes' if r.get('busy') else 'no':>4}"
                     + (f"  {r['note']}" if r.get("note") else ""))
    m = result["mape"]
    cal = result["calibration"] or "none (catalog defaults)"
    lines.append("-" * len(head))
    if result.get("measure_only"):
        lines.append("measured only: bench/rescore_host_validation.py FILE adds perf-opt's "
                     "estimates to the --json file")
    else:
        lines.append(f"MAPE {m * 100:.1f}% over {result['configurations'] - result['failed']} "
                     f"configurations" if m is not None else "MAPE: no configuration succeeded")
        if datasheet and result.get("datasheet_mape") is not None:
            clock = estimate_clock((result.get("machine") or {}).get("clock_hz_reported"), None,
                                   result.get("clock_ghz"),
                                   (result.get("gpu") or {}).get("catalog_device"))["hz"]
            lines[-1] += (f"; {result['datasheet_mape'] * 100:.1f}% with the datasheet figures "
                          f"alone (no calibration" + (f", {clock / 1e9:.2f} GHz)" if clock else ")"))
    steady = steady_memory_mape(result)
    if steady is not None:
        lines.append(steady)
    moved = round_spread(result)
    if moved is not None:
        lines.append(moved)
    lines.append(f"calibration: {cal}; allocator: {result.get('allocator', 'default')}")
    clock = clock_line(result)
    if clock:
        lines.append(clock)
    drift = speed_drift(result.get("conditions") or {})
    if drift:
        lines.append(drift)
    return "\n".join(lines) + "\n"


# A row whose rounds differ by more than this ran while the machine's speed changed: a
# VM's neighbours slow it without any steal time, CPU share or reference-GEMM change showing
# (this project's Zen 5 VM, 2026-12-03: the zoo measured at 22:05 and again at 22:22 with the
# same calibration, rows a median 1.14x and up to 1.9x slower in the first run; its reference
# GEMM 1.02-1.10x its best in both). Noise only ever adds time, so the fastest round is the
# machine's own speed.
ROUND_SPREAD = 0.15


def round_spread(result: dict) -> str | None:
    """A line on the rows whose rounds disagree by more than ROUND_SPREAD, with the MAPE
    over those that agree; None for a single round."""
    rows = [r for r in result["rows"] if r.get("error") is not None
            and len(r.get("round_medians_s") or []) > 1]
    if not rows:
        return None
    spread = {id(r): max(r["round_medians_s"]) / min(r["round_medians_s"]) for r in rows}
    steady = [r for r in rows if spread[id(r)] - 1 <= ROUND_SPREAD]
    text = (f"rounds: {len(rows) - len(steady)} of {len(rows)} configurations moved more than "
            f"{ROUND_SPREAD:.0%} between rounds (up to {max(spread.values()):.2f}x); each keeps "
            f"its fastest")
    if steady and len(steady) < len(rows):
        m = mean_abs_error(r["error"] for r in steady)
        text += f"; MAPE {m * 100:.1f}% over the {len(steady)} that held"
    return text


# How far a row's DRAM copy rate may stray from the reference for the row to count as
# measured at the reference's memory speed.
MEMORY_SPEED_TOLERANCE = 0.10


def memory_speed(result: dict, row: dict) -> float | None:
    """The row's DRAM copy rate over the calibration's (same machine), else over the copy
    timed before the first row; None for runs that did not time one per row."""
    rate = row.get("reference_copy_bytes_per_s")
    conditions = result.get("conditions") or {}
    base = conditions.get("calibration_copy_bytes_per_s") or next(
        iter(conditions.get("reference_copy_bytes_per_s") or []), None)
    return rate / base if rate and base else None


def steady_memory_mape(result: dict) -> str | None:
    """The MAPE over the rows measured at the reference's memory speed (within
    MEMORY_SPEED_TOLERANCE), when some rows were not."""
    rows = [r for r in result["rows"] if r.get("error") is not None]
    speeds = [memory_speed(result, r) for r in rows]
    if not rows or any(v is None for v in speeds):
        return None
    steady = [r for r, v in zip(rows, speeds) if abs(v - 1) <= MEMORY_SPEED_TOLERANCE]
    if len(steady) == len(rows):
        return None
    if not steady:
        return (f"no row ran at the reference's memory speed (within "
                f"{MEMORY_SPEED_TOLERANCE:.0%}): mem {min(speeds):.2f}-{max(speeds):.2f}")
    m = mean_abs_error(r["error"] for r in steady)
    return (f"MAPE {m * 100:.1f}% over the {len(steady)} configurations measured at the "
            f"reference's memory speed (mem within {MEMORY_SPEED_TOLERANCE:.0%}); "
            f"mem {min(speeds):.2f}-{max(speeds):.2f} over all")


def speed_drift(conditions: dict) -> str | None:
    """Lines saying how much faster or slower this machine ran than when the calibration
    was measured (same machine): the quiet time of the reference 512^3 GEMM both runs record,
    and the DRAM copy rate before and after the rows against the calibration's. A VM's speed
    follows its neighbours: on the 2-vCPU Xeon test VM the same calibration met runs 21%
    faster an hour later (0.769 vs 0.929 ms), and the estimates from it came out that much
    slow; on the 2-vCPU EPYC VM the GEMM moved 12% while DRAM copies slowed 20-30% and
    memory-bound rows with them. Nothing for a figure within 5 %."""
    lines = []
    now, then = conditions.get("reference_gemm_best_s"), conditions.get("calibration_reference_gemm_s")
    if now and then and abs(then / now - 1) > 0.05:
        way = "faster" if now < then else "slower"
        lines.append(f"machine speed: the reference GEMM ran {max(now, then) / min(now, then):.2f}x "
                     f"{way} than when the calibration was measured ({now * 1e3:.3f} vs "
                     f"{then * 1e3:.3f} ms); expect the calibrated estimates to be about that much "
                     f"{'slow' if way == 'faster' else 'fast'}")
    rates, cal = conditions.get("reference_copy_bytes_per_s") or [], conditions.get(
        "calibration_copy_bytes_per_s")
    if rates and cal and any(abs(r / cal - 1) > 0.05 for r in rates):
        when = "before and after the rows" if len(rates) > 1 else "before the rows"
        lines.append("memory speed: DRAM copies ran at " + " and ".join(
            f"{r / 1e9:.1f}" for r in rates) + f" GB/s ({when}), {cal / 1e9:.1f} when the "
            "calibration was measured; memory-bound estimates are off by about as much")
    return "\n".join(lines) or None
