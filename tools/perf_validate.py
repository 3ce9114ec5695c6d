"""`perf-validate`: run models on this machine and compare measured latency with
perf-opt's estimate (predicted vs measured table and MAPE). Argument parsing only; the
work is compiler/validate.py (its table compiler/validate_table.py),
compiler/validate_perop.py and compiler/validate_compiled_parts.py."""

from __future__ import annotations

import json
import os
import sys
from argparse import ArgumentTypeError

from tools.cli_common import ArgumentParser, llvm_style


def clock_option(text: str) -> float | str:
    """--clock-ghz's value: `measured` or a positive number of GHz."""
    if text == "measured":
        return text
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise ArgumentTypeError(f"expected a clock in GHz (a positive number) or 'measured', "
                                f"got '{text}'")
    return value


def make_parser() -> ArgumentParser:
    from compiler.validate import DEFAULT_MODELS

    p = ArgumentParser(prog="perf-validate", allow_abbrev=False,
                       description="Measure models with PyTorch on this machine and compare "
                                   "with perf-opt's estimate for map-cpu{device=host} (or, with "
                                   "--device cuda, map-gpu for the GPU's catalog device).")
    p.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS), metavar="MODEL",
                   help=f"zoo models (default: {' '.join(DEFAULT_MODELS)})")
    p.add_argument("--batches", nargs="+", type=int, default=[1, 8], metavar="N")
    p.add_argument("--precisions", nargs="+", default=["fp32"],
                   choices=("fp32", "tf32", "bf16", "fp16"), help="tf32 only with --device cuda")
    p.add_argument("--device", choices=("host", "cuda"), default="host",
                   help="run the models on this machine's CPU (default) or on CUDA device 0")
    p.add_argument("--gpu-device", metavar="NAME",
                   help="catalog device that predicts the GPU (default: the one its name maps "
                        "to, e.g. 'NVIDIA H200' -> h200-sxm)")
    p.add_argument("--repeats", type=int, default=10, help="timed samples per configuration")
    p.add_argument("--rounds", type=int, default=1,
                   help="measure the whole list this many times, one round after another; "
                        "each configuration keeps its fastest round and the table names those "
                        "whose rounds differ by more than 15%% (a VM slowed by its neighbours)")
    p.add_argument("--calibration", metavar="FILE",
                   help="calibration file from perf-calibrate (each row then also gets the "
                        "datasheet estimate, without it, and the table both MAPEs)")
    p.add_argument("--clock-ghz", metavar="GHZ|measured", type=clock_option,
                   help="the clock the estimates use (map-cpu's clock-ghz), or `measured`: the "
                        "clock the host's cores ran at right before the rows (a VM reports "
                        "its nominal clock, not the one it runs at)")
    p.add_argument("--compile", action="store_true",
                   help="also run torch.compile'd models against the fused (compiled) pipeline")
    p.add_argument("--freeze", action="store_true",
                   help="also run models compiled with Inductor's freezing (weights prepacked "
                        "once) against the fused pipeline with map-cpu{weights=prepacked}")
    p.add_argument("--json", metavar="FILE", help="write the full result as JSON")
    p.add_argument("--per-op", metavar="MODEL",
                   help="compare per-kernel estimates with torch.profiler op times for MODEL "
                        "(first batch and precision), instead of the model table; with "
                        "--compile, the torch.compile'd model by part (library calls, "
                        "generated loops, wrapper and guards) and library call")
    p.add_argument("--top", type=int, default=15, help="worst offenders listed with --per-op")
    p.add_argument("--max-foreign-load", type=float, default=0.10,
                   help="redo a sample when other processes used more than this share of the "
                        "machine during it (default 0.10)")
    p.add_argument("--quiet-wait", type=float, default=60.0, metavar="SECONDS",
                   help="wait up to this long for other processes to go quiet before "
                        "measuring (default 60)")
    p.add_argument("--in-process", action="store_true",
                   help="measure every configuration in this process (default: a fresh process "
                        "each, so allocator state from earlier models does not leak in)")
    p.add_argument("--pin-allocator", action="store_true",
                   help="measure with glibc malloc pinned (freed memory reused, no first-touch "
                        "page faults), to separate the ops' cost from allocation cost")
    p.add_argument("--measure-only", action="store_true",
                   help="measure without importing or estimating (needs torch, not xDSL); "
                        "bench/rescore_host_validation.py adds the estimates to the --json file")
    p.add_argument("--no-progress", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(llvm_style(sys.argv[1:] if argv is None else argv, parser))
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1, got {args.repeats}")
    if args.rounds < 1:
        parser.error(f"--rounds must be >= 1, got {args.rounds}")
    if args.rounds > 1 and args.per_op:
        parser.error("--rounds repeats the model table; it does not take --per-op")
    if any(b < 1 for b in args.batches):
        parser.error("batches must be >= 1")
    if "tf32" in args.precisions and args.device != "cuda":
        parser.error("precision tf32 needs --device cuda (TF32 is a GPU tensor-core mode)")
    if args.gpu_device and args.device != "cuda":
        parser.error("--gpu-device needs --device cuda")
    if args.freeze and args.device == "cuda":
        parser.error("--freeze models a CPU's prepacked weights; it does not take --device cuda")
    if args.clock_ghz == "measured" and args.device == "cuda":
        parser.error("--clock-ghz measured times the host's cores; give a CUDA GPU's clock "
                     "in GHz")
    if isinstance(args.clock_ghz, float) and not args.measure_only:
        from passes.map_target import CLOCK_GHZ_RANGE   # xDSL, which --measure-only does without
        if not CLOCK_GHZ_RANGE[0] <= args.clock_ghz <= CLOCK_GHZ_RANGE[1]:
            parser.error(f"--clock-ghz must be a clock in GHz between {CLOCK_GHZ_RANGE[0]:g} and "
                         f"{CLOCK_GHZ_RANGE[1]:g}, got {args.clock_ghz:g}")
    if args.clock_ghz is not None and args.per_op:
        parser.error("--clock-ghz sets the model table's estimates; it does not take --per-op")
    if args.per_op and args.device == "cuda":
        parser.error("--per-op compares with the host's profile; it does not take --device cuda")
    if args.per_op and args.compile and (args.freeze or args.pin_allocator):
        parser.error("--per-op with --compile profiles the default torch.compile; it does not "
                     "take --freeze or --pin-allocator")
    from compiler.model_zoo import ZOO, ModelError
    from compiler.validate import ClockError
    from compiler.validate_gpu import GpuError
    from targets.calibration import CalibrationError

    for model in ([args.per_op] if args.per_op else args.models):
        if model not in ZOO:
            parser.error(f"unknown model '{model}'; valid models: {', '.join(ZOO)}")
    try:
        if args.calibration:
            from targets.calibration import load
            load(args.calibration)
        if args.per_op:
            # torch.profiler's Kineto logs its start/stop and a failed GPU probe on stderr;
            # only errors of its own matter here. Read when torch is first imported, below.
            os.environ.setdefault("KINETO_LOG_LEVEL", "5")
            if args.compile:
                from compiler.validate_compiled_parts import compiled_parts, compiled_parts_table

                result = compiled_parts(args.per_op, args.batches[0], args.precisions[0],
                                        args.calibration, quiet_wait_s=args.quiet_wait)
                sys.stdout.write(compiled_parts_table(result, args.top))
            else:
                from compiler.validate_perop import per_op, per_op_table

                result = per_op(args.per_op, args.batches[0], args.precisions[0], args.calibration,
                                quiet_wait_s=args.quiet_wait, pin_allocator=args.pin_allocator)
                sys.stdout.write(per_op_table(result, args.top))
        else:
            from compiler.validate import default_progress, validate
            from compiler.validate_table import table

            progress = None if args.no_progress else default_progress()
            result = validate(args.models, args.batches, args.precisions, args.repeats,
                              args.calibration, args.compile, freeze=args.freeze, progress=progress,
                              max_foreign=args.max_foreign_load, quiet_wait_s=args.quiet_wait,
                              isolate=not args.in_process, pin_allocator=args.pin_allocator,
                              device=args.device, gpu_device=args.gpu_device,
                              measure_only=args.measure_only, rounds=args.rounds,
                              clock_ghz=args.clock_ghz)
            if progress:
                sys.stderr.write("\n")
            sys.stdout.write(table(result))
    except (CalibrationError, ModelError, GpuError, ClockError) as err:
        sys.stderr.write(f"perf-validate: error: {err}\n")
        return 1
    if args.json:
        try:
            with open(args.json, "w") as stream:
                json.dump(result, stream, indent=1)
                stream.write("\n")
        except OSError as err:
            sys.stderr.write(f"perf-validate: error: cannot write '{args.json}': {err.strerror}\n")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
