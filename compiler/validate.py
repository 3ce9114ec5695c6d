"""perf-validate's work: run real models on this machine and compare with perf-opt's
estimate of the same configuration.

For each (model, batch, precision, runtime): the model runs in PyTorch (eval,
inference_mode, warm-up, median of repeated samples; torch.compile for the compiled
runtime, and with Inductor's freezing for the frozen one, when asked and when it works),
each timed sample recording its CPU utilization and the other processes' share of the
machine, busy samples redone (compiler/calibrate/timing.py). The same configuration goes
through perf-opt in this process: import (compiler.importer), then
`[fuse,]annotate-deps,assign-precision{default=P},map-cpu{device=host [calibration=FILE]},cost`
(eager runs without `fuse`, compiled runs with it, as DESIGN.md's runtime models say;
frozen runs also with map-cpu{weights=prepacked}). The result is one row per configuration with
the signed error (predicted - measured) / measured, and the mean absolute percentage
error (MAPE) over the rows. With device "cuda" the models run on CUDA device 0 and the
pipeline maps to the catalog device that GPU is (compiler/validate_gpu.py).
"""

from __future__ import annotations

import statistics
import sys
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from compiler.calibrate.timing import (
    DEFAULT_MAX_FOREIGN, SpeedProbe, Timer, load_average, wait_until_quiet,
)
from compiler.model_zoo import torch_dtype

DEFAULT_MODELS = ("resnet18", "resnet50", "mobilenet_v2", "efficientnet_b0", "vit_b_16",
                  "convnext_tiny", "transformer_encoder", "mlp")
SCHEMA_VERSION = 1
RETRY_ROUNDS = 2


@dataclass(frozen=True)
class Config:
    model: str
    batch: int
    precision: str
    runtime: str = "eager"          # eager | compiled | frozen (compiled with Inductor's freezing)

    @property
    def label(self) -> str:
        return f"{self.model} b{self.batch} {self.precision} {self.runtime}"


def pipeline_text(precision: str, runtime: str, calibration: str | None,
                  pinned: bool = False, gpu: str | None = None,
                  clock_ghz: float | None = None) -> str:
    """The pipeline that predicts a row: map-cpu for this machine, or map-gpu with the
    catalog device `gpu` for a row measured on a CUDA GPU; `clock_ghz` sets the clock."""
    fuse = "fuse," if runtime in ("compiled", "frozen") else ""
    head = f"{fuse}annotate-deps,assign-precision{{default={precision}}},"
    cal = f" calibration={calibration}" if calibration else ""
    cal += f" clock-ghz={clock_ghz:.6g}" if clock_ghz else ""
    if gpu is not None:
        return f"{head}map-gpu{{device={gpu}{cal}}},cost"
    alloc = " allocator=pinned" if pinned else ""
    # a frozen graph packs its weights once and runs its tails as oneDNN post-ops
    weights = " weights=prepacked" if runtime == "frozen" else ""
    return f"{head}map-cpu{{device=host{cal}{alloc}{weights}}},cost"


def costed(module, precision: str, runtime: str, calibration: str | None,
           pinned: bool = False, gpu: str | None = None, clock_ghz: float | None = None):
    """A clone of an imported module after the pipeline that predicts the configuration."""
    from compiler.context import make_context
    from compiler.pipeline import build

    work = module.clone()
    ctx = make_context()
    for p in build(pipeline_text(precision, runtime, calibration, pinned, gpu, clock_ghz)):
        p.apply(ctx, work)
    return work


def predict(module, precision: str, runtime: str, calibration: str | None,
            pinned: bool = False, gpu: str | None = None, clock_ghz: float | None = None) -> dict:
    """perf-opt's report (passes/report_data.collect) for an imported module (cloned)."""
    from passes.report_data import collect

    return collect(costed(module, precision, runtime, calibration, pinned, gpu, clock_ghz))


def cast(built, precision: str, device: str = "cpu") -> tuple:
    """The built model in eval mode and its floating-point inputs, in `precision` (tf32:
    FP32 tensors), on the torch `device`."""
    from compiler.validate_gpu import storage_precision

    dtype = torch_dtype(storage_precision(precision))
    return (built.module.to(device=device, dtype=dtype).eval(),
            tuple((x.to(dtype) if x.is_floating_point() else x).to(device) for x in built.inputs))


def measure(built, precision: str, runtime: str, timer: Timer, device: str = "cpu",
            gpu: bool = False) -> dict:
    """Median wall time of the model's forward pass on the torch `device`, with its timing
    summary. For a GPU row each call ends with a device synchronize, under the precision's
    TF32 switches (compiler/validate_gpu.py)."""
    import contextlib

    import torch

    from compiler.validate_gpu import math_mode, synchronized

    module, inputs = cast(built, precision, device)
    note = ""
    fn = module
    mode = math_mode(precision) if gpu else contextlib.nullcontext()
    with mode:
        if runtime in ("compiled", "frozen"):
            try:
                import torch._inductor.config as inductor_config

                fn = torch.compile(module)
                # Inductor freezes (prepacks weights, folds batch norms) when it compiles,
                # at the first call
                with inductor_config.patch(freezing=runtime == "frozen"), torch.inference_mode():
                    fn(*inputs)
            except Exception as err:  # inductor needs a C++ toolchain; many things can fail
                return {"ok": False, "note": f"torch.compile failed: {type(err).__name__}: "
                                             f"{str(err).splitlines()[0][:200] if str(err) else ''}"}
        call = lambda: fn(*inputs)  # noqa: E731
        with torch.inference_mode():
            m = timer.measure(synchronized(call) if gpu else call)
    out = m.summary()
    out.update({"ok": True, "note": note})
    return out


def measure_isolated(config: Config, repeats: int, min_time_s: float, max_foreign: float,
                     threads: int, probe_best_s: float | None = None,
                     pin_allocator: bool = False) -> dict:
    """`measure` in a fresh Python process (compiler/validate_worker.py says why)."""
    import json
    import subprocess
    from pathlib import Path

    spec = {"model": config.model, "batch": config.batch, "precision": config.precision,
            "runtime": config.runtime, "repeats": repeats, "min_time_s": min_time_s,
            "max_foreign": max_foreign, "threads": threads, "probe_best_s": probe_best_s,
            "pin_allocator": pin_allocator}
    proc = subprocess.run([sys.executable, "-m", "compiler.validate_worker", json.dumps(spec)],
                          cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"ok": False, "note": f"measurement process failed: {tail[:200]}"}
    return json.loads(lines[-1])


@dataclass
class Row:
    config: Config
    measured: dict
    predicted_s: float | None = None
    report: dict | None = field(default=None, repr=False)
    note: str = ""
    round_medians_s: list[float] = field(default_factory=list)
    datasheet_s: float | None = None    # the estimate without the calibration, beside it

    @property
    def error(self) -> float | None:
        """(predicted - measured) / measured against the row's current (fastest) median."""
        return relative_error(self.predicted_s, self.measured.get("median_s"))

    @property
    def datasheet_error(self) -> float | None:
        return relative_error(self.datasheet_s, self.measured.get("median_s"))

    def as_dict(self) -> dict:
        c = self.config
        m = self.measured
        return {
            "model": c.model, "batch": c.batch, "precision": c.precision, "runtime": c.runtime,
            "measured_s": m.get("median_s"), "measured_min_s": m.get("min_s"),
            "measured_max_s": m.get("max_s"), "repeats": m.get("repeats"),
            "iterations_per_sample": m.get("iterations"),
            "cpu_utilization": m.get("cpu_utilization"), "foreign_load": m.get("foreign_load"),
            "rejected_busy": m.get("rejected_busy"), "busy": m.get("busy"),
            "page_faults_per_run": m.get("page_faults_per_call"),
            "reference_slowdown": m.get("reference_slowdown"),
            "reference_copy_bytes_per_s": m.get("reference_copy_bytes_per_s"),
            "round_medians_s": self.round_medians_s or None,
            "predicted_s": self.predicted_s, "error": self.error,
            "abs_error": abs(self.error) if self.error is not None else None,
            "datasheet_predicted_s": self.datasheet_s, "datasheet_error": self.datasheet_error,
            "kernels": self.report.get("kernels") if self.report else None,
            "predicted_bottleneck_s": self.report.get("time_by_bottleneck_s") if self.report else None,
            "note": self.note or m.get("note", ""),
        }


def relative_error(predicted_s: float | None, measured_s: float | None) -> float | None:
    return (predicted_s - measured_s) / measured_s if predicted_s and measured_s else None


def mean_abs_error(errors: Iterable[float | None]) -> float | None:
    """The MAPE of relative errors, skipping rows without one (failed or not estimated)."""
    known = [abs(e) for e in errors if e is not None]
    return statistics.fmean(known) if known else None


def mape(rows: Sequence[Row], datasheet: bool = False) -> float | None:
    return mean_abs_error(r.datasheet_error if datasheet else r.error for r in rows)


def validate(models: Sequence[str] = DEFAULT_MODELS, batches: Sequence[int] = (1, 8),
             precisions: Sequence[str] = ("fp32",), repeats: int = 10,
             calibration: str | None = None, compile: bool = False, freeze: bool = False,
             min_time_s: float = 0.05, max_foreign: float = DEFAULT_MAX_FOREIGN,
             progress: Callable[[str], None] | None = None, quiet_wait_s: float = 60.0,
             keep_reports: bool = False, isolate: bool = True,
             pin_allocator: bool = False, device: str = "host",
             gpu_device: str | None = None, measure_only: bool = False,
             rounds: int = 1, clock_ghz: float | str | None = None) -> dict:
    """Every configuration measured and predicted; returns the JSON-ready result.
    `device`: "host" (this machine's CPU, predicted by map-cpu) or "cuda" (CUDA device 0,
    predicted by map-gpu with the catalog device `gpu_device`, else the one
    compiler/validate_gpu.GPU_CATALOG names for it). Raises GpuError without a usable GPU.
    `compile` adds torch.compile'd rows (fused pipeline), `freeze` rows compiled with
    Inductor's freezing (fused pipeline, map-cpu{weights=prepacked}).
    `measure_only`: no import and no estimate (nor xDSL), for a machine that only has torch;
    bench/rescore_host_validation.py adds the estimates to the stored result elsewhere.
    `rounds`: times the whole list is measured, one round after another; each row keeps its
    fastest round (see compiler/validate_table.ROUND_SPREAD).
    `clock_ghz`: the clock the estimates use (map-cpu's or map-gpu's clock-ghz), or
    "measured" for the clock the host's cores ran at right before the rows: a VM reports its
    nominal clock, not the boost clock it runs at (targets/host.py). On the host the clock
    is measured before and after the rows either way and recorded."""
    import torch

    from compiler.calibrate import memory
    from compiler.model_zoo import build
    from compiler import validate_gpu
    from targets import host

    gpu = None
    if device == "cuda":
        gpu = validate_gpu.catalog_device(validate_gpu.require_cuda(), gpu_device)
    elif device != "host":
        raise ValueError(f"unknown device '{device}'; valid: host, cuda")
    info = host.probe()
    if pin_allocator and not isolate:  # isolated workers pin their own allocator
        memory.pin_allocator()
    threads = info.logical_cpus
    torch.set_num_threads(threads)
    best = cal_copy = calibrated_hz = None
    copy_bytes = REFERENCE_COPY_BYTES
    if calibration is not None:  # a bad file (or one for another device) fails here, first
        from targets.calibration import load
        from targets.catalog import load_device
        cal = load(calibration)
        cal.apply(load_device(gpu or "host"))
        calibrated_hz = cal.clock_hz
        # this machine's quiet reference times, when the calibration was measured here
        if (cal.machine.get("cpu_model"), cal.machine.get("logical_cpus")) == (
                info.model_name, info.logical_cpus):
            best = (cal.raw.get("conditions") or {}).get("reference_gemm_best_s")
            dram = (cal.raw.get("bandwidth") or {}).get("dram") or {}
            if (dram.get("copy_bytes_per_s") or {}).get("median") and dram.get("copy_src_bytes"):
                cal_copy = dram["copy_bytes_per_s"]["median"]
                copy_bytes = int(dram["copy_src_bytes"])
    probe = SpeedProbe(best=best)
    timer = Timer(threads=threads, repeats=repeats, min_time_s=min_time_s, warmup=3,
                  max_foreign=max_foreign, probe=probe)
    runtimes = ("eager",) + (("compiled",) if compile else ()) + (("frozen",) if freeze else ())
    say = progress or (lambda s: None)

    def run(config: Config, built=None) -> dict:
        if gpu:
            # In this process: GPU tensors come from CUDA's caching allocator, not glibc, and
            # a fresh process per row would create a CUDA context (seconds) each time.
            return measure(built or build(config.model, config.batch), config.precision,
                           config.runtime, timer, validate_gpu.TORCH_DEVICE, gpu=True)
        if isolate:
            # The DRAM copy right before the row, in this process: a copy in the worker would
            # move glibc's mmap threshold before the model allocates.
            rate = memory.copy_rate(timer, copy_bytes)
            out = measure_isolated(config, repeats, min_time_s, max_foreign, threads, probe.best,
                                   pin_allocator)
            out["reference_copy_bytes_per_s"] = rate
            return out
        return measure(built or build(config.model, config.batch), config.precision,
                       config.runtime, timer)

    load_before = load_average()
    start_foreign = wait_until_quiet(max_foreign, timeout_s=quiet_wait_s, report=say, probe=probe)
    copy_rates = [memory.copy_rate(timer, copy_bytes)]
    clocks = [] if gpu else [measured_clock_hz(threads, say)]
    if clock_ghz == "measured":
        if not clocks or clocks[0] is None:
            raise ClockError("--clock-ghz measured needs the host's cores and a C compiler "
                             "(cc, gcc or clang) to time them; give the clock in GHz instead")
        clock_ghz = clocks[0] / 1e9
    rows: list[Row] = []
    for model in models:
        for batch in batches:
            built = build(model, batch)
            imported = None
            if not measure_only:
                from compiler.importer import import_model

                say(f"{model} b{batch}: import")
                imported = import_model(built).module
            for precision in precisions:
                for runtime in runtimes:
                    config = Config(model, batch, precision, runtime)
                    say(f"{config.label}: measure")
                    measured = run(config, built)
                    row = Row(config, measured)
                    if not measured.get("ok") or measure_only:
                        row.note = measured.get("note", "")
                        rows.append(row)
                        continue
                    say(f"{config.label}: predict")
                    try:
                        report = predict(imported, precision, runtime, calibration,
                                         pin_allocator, gpu, clock_ghz)
                    except Exception as err:  # a pipeline error is a result, not a crash
                        row.note = f"perf-opt failed: {type(err).__name__}: {err}"
                        rows.append(row)
                        continue
                    row.report = report if keep_reports else {
                        k: report[k] for k in ("kernels", "time_by_bottleneck_s", "latency_s")}
                    row.predicted_s = report["latency_s"]
                    if calibration is not None:   # the same row without it
                        row.datasheet_s = predict(imported, precision, runtime, None,
                                                  pin_allocator, gpu, clock_ghz)["latency_s"]
                    rows.append(row)
    # Rows measured on a busy machine are measured again once it is quiet.
    for _round in range(RETRY_ROUNDS):
        busy = [r for r in rows if r.measured.get("busy")]
        if not busy:
            break
        say(f"{len(busy)} configurations ran on a busy machine; waiting to redo them")
        wait_until_quiet(max_foreign, timeout_s=quiet_wait_s, report=say, probe=probe)
        for row in busy:
            c = row.config
            say(f"{c.label}: measure again")
            again = run(c)
            if again.get("ok"):
                again["rejected_busy"] += row.measured.get("rejected_busy", 0)
                row.measured = again
    # Later rounds: the whole list again, so a slow spell of the machine falls on different
    # rows each time; a row keeps its fastest round.
    measured = [row for row in rows if row.measured.get("ok")] if rounds > 1 else []
    for row in measured:
        row.round_medians_s.append(row.measured["median_s"])
    for number in range(2, rounds + 1):
        for row in measured:
            c = row.config
            say(f"{c.label}: round {number} of {rounds}")
            again = run(c)
            if not again.get("ok") or again.get("busy"):
                continue
            row.round_medians_s.append(again["median_s"])
            if again["median_s"] < row.measured["median_s"]:
                row.measured = again
    copy_rates.append(memory.copy_rate(timer, copy_bytes))
    if clocks:
        clocks.append(measured_clock_hz(threads, say))
    from compiler.calibrate.machine import identity, now, software

    return {
        "schema_version": SCHEMA_VERSION, "date": now(),
        "calibration": calibration, "compile": compile, "freeze": freeze, "isolated": isolate and not gpu,
        "measure_only": measure_only,
        "allocator": "pinned (no first-touch faults)" if pin_allocator else "default",
        "machine": identity(info, threads), "software": software(),
        "gpu": validate_gpu.identity(gpu) if gpu else None,
        "conditions": {"repeats": repeats, "rounds": rounds, "min_sample_s": min_time_s,
                       "max_foreign_load": max_foreign, "foreign_load_at_start": round(start_foreign, 4),
                       "max_reference_slowdown": timer.max_slowdown,
                       "reference_gemm_best_s": probe.best,
                       "calibration_reference_gemm_s": best,
                       "reference_copy_bytes": copy_bytes,
                       "reference_copy_bytes_per_s": copy_rates,   # before and after the rows
                       "calibration_copy_bytes_per_s": cal_copy,
                       "load_average_before": load_before, "load_average_after": load_average(),
                       "clock_hz_measured": clocks},               # before and after the rows
        "clock_ghz": clock_ghz,
        "estimate_clock": estimate_clock(info.clock_hz, calibrated_hz, clock_ghz, gpu),
        "pipelines": {rt: pipeline_text("P", rt, calibration, pin_allocator, gpu, clock_ghz)
                      for rt in runtimes},
        "rows": [r.as_dict() for r in rows],
        "mape": mape(rows),
        "datasheet_mape": mape(rows, datasheet=True),
        "configurations": len(rows),
        "failed": sum(1 for r in rows if r.error is None),
    }


class ClockError(Exception):
    """The clock the estimates should use cannot be had; the message says why."""


def measured_clock_hz(threads: int, say: Callable[[str], None]) -> float | None:
    """The clock the host's cores run at with all of them busy (the median of one loop per
    CPU: compiler/calibrate/machine.py), or None without a C compiler to build the loop."""
    from compiler.calibrate.machine import measure_clock

    say("clock")
    clock = measure_clock(threads, repeats=1)
    return clock["measured_hz"]["median"] if clock else None


def estimate_clock(reported_hz: float, calibrated_hz: float | None, clock_ghz: float | None,
                   gpu: str | None = None) -> dict:
    """The clock the host's estimates run at and where it comes from: the clock-ghz option
    over the clock the calibration measured (`calibrated_hz`, None without one) over the one
    the OS reports (map_target's order). A GPU's is its catalog device's unless the option
    sets it."""
    if clock_ghz:
        return {"hz": clock_ghz * 1e9, "source": "--clock-ghz"}
    if gpu:
        return {"hz": None, "source": f"catalog device {gpu}"}
    if calibrated_hz:
        return {"hz": calibrated_hz, "source": "the calibration's"}
    return {"hz": reported_hz, "source": "reported by the OS"}


# Bytes of the reference copy when no calibration gives its DRAM copy size: far beyond any
# last-level cache a VM gets, as perf-calibrate's DRAM level.
REFERENCE_COPY_BYTES = 256 * 2 ** 20


def default_progress(stream=None) -> Callable[[str], None]:
    out = stream or sys.stderr
    width = [0]

    def show(text: str) -> None:
        line = f"perf-validate: {text}"
        out.write("\r" + line + " " * max(0, width[0] - len(line)))
        out.flush()
        width[0] = len(line)
    return show
