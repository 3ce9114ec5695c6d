"""`perf-calibrate`: measure this machine with PyTorch micro-benchmarks and write a
calibration file for `map-cpu{device=host calibration=FILE}`, or, with `--device cuda` or
`--gpu-measurements FILE`, one for `map-gpu{device=NAME calibration=FILE}`. Argument
parsing only; the work is compiler/calibrate/, the file's schema targets/calibration.py."""

from __future__ import annotations

import json
import sys

from tools.cli_common import ArgumentParser, llvm_style


def make_parser() -> ArgumentParser:
    p = ArgumentParser(prog="perf-calibrate", allow_abbrev=False,
                       description="Measure this machine (matmul, conv, element-wise, pooling, "
                                   "norms, softmax, attention, memory bandwidth, dispatch "
                                   "overhead) and write a calibration file.")
    p.add_argument("--quick", action="store_true", help="fewer sizes and repeats (about a minute)")
    p.add_argument("-o", dest="output", default="-", help="output JSON file (default: stdout)")
    p.add_argument("--repeats", type=int, help="timed samples per benchmark (median taken)")
    p.add_argument("--name", help="calibration name (default: ci-host-<cores>core)")
    p.add_argument("--precisions", nargs="+", choices=("fp32", "bf16"),
                   help="precisions to measure (default: fp32, and bf16 where the CPU has "
                        "avx512_bf16 or AMX)")
    p.add_argument("--max-foreign-load", type=float, default=0.10,
                   help="redo a sample when other processes used more than this share of the "
                        "machine during it (default 0.10)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument("--refit", metavar="FILE",
                   help="recompute the fitted efficiencies of FILE with the current model "
                        "(no measurement)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                   help="cpu: this machine's CPU (default); cuda: CUDA device 0, measured and "
                        "fitted for map-gpu")
    p.add_argument("--gpu-measurements", metavar="FILE",
                   help="fit a GPU measurements file (python -m compiler.calibrate.gpu, run on "
                        "the GPU's machine) into a map-gpu calibration; no measurement here")
    p.add_argument("--gpu-device", metavar="NAME",
                   help="the catalog GPU a GPU calibration is for (default: the one named "
                        "after the measured GPU)")
    return p


def gpu_document(args) -> dict:
    """A map-gpu calibration: measured here (--device cuda) or read from a file."""
    from compiler.calibrate.gpu_fit import gpu_calibration

    if args.gpu_measurements:
        with open(args.gpu_measurements) as stream:
            raw = json.load(stream)
        origin = args.gpu_measurements
    else:
        from compiler.calibrate.gpu import measure

        raw = measure(repeats=args.repeats or 5)
        origin = "<perf-calibrate --device cuda>"
    return gpu_calibration(raw, origin, args.gpu_device)


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(llvm_style(sys.argv[1:] if argv is None else argv, parser))
    if args.repeats is not None and args.repeats < 1:
        parser.error(f"--repeats must be >= 1, got {args.repeats}")
    if not 0 < args.max_foreign_load <= 1:
        parser.error("--max-foreign-load must be in (0, 1]")
    if args.gpu_measurements or args.device == "cuda":
        from compiler.validate_gpu import GpuError
        from targets.calibration import CalibrationError

        try:
            doc = gpu_document(args)
        except (OSError, json.JSONDecodeError, CalibrationError, GpuError) as err:
            sys.stderr.write(f"perf-calibrate: error: {err}\n")
            return 1
    elif args.gpu_device:
        parser.error("--gpu-device applies to --device cuda and --gpu-measurements")
    elif args.refit:
        from compiler.calibrate.machine import recorded_host
        from targets.calibration import CalibrationError, from_dict
        from targets.calibration_fit import fit
        from targets.catalog import load_device

        try:
            with open(args.refit) as stream:
                doc = json.load(stream)
            from_dict(doc, args.refit)
            # Fit for the machine the file measured, which need not be this one.
            try:
                device = (load_device(doc["device"]) if doc.get("target") == "gpu"
                          else recorded_host(doc["machine"]))
            except KeyError as err:
                raise CalibrationError(f"{args.refit}: its machine block lacks {err}, so it cannot "
                                       "be refit for the machine it measured") from None
            doc = fit(doc, device, origin=args.refit)
            from_dict(doc, args.refit)
        except (OSError, json.JSONDecodeError, CalibrationError) as err:
            sys.stderr.write(f"perf-calibrate: error: {err}\n")
            return 1
    else:
        from compiler.calibrate import calibrate
        from compiler.calibrate.runner import FitError

        try:
            doc = calibrate("quick" if args.quick else "full", repeats=args.repeats,
                            precisions=args.precisions, name=args.name,
                            progress=not args.no_progress, max_foreign=args.max_foreign_load)
        except FitError as err:
            raw = (args.output if args.output != "-" else "perf-calibrate") + ".raw.json"
            with open(raw, "w") as stream:
                json.dump(err.doc, stream, indent=1)
            sys.stderr.write(f"perf-calibrate: error: {err}; raw measurements in {raw}\n")
            return 1
    text = json.dumps(doc, indent=1) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        try:
            with open(args.output, "w") as stream:
                stream.write(text)
        except OSError as err:
            sys.stderr.write(f"perf-calibrate: error: cannot write '{args.output}': {err.strerror}\n")
            return 1
    busy = doc.get("conditions", {}).get("benchmarks_still_busy") or []
    if busy:
        sys.stderr.write(f"perf-calibrate: warning: {len(busy)} benchmarks never got a quiet "
                         f"sample (machine busy): {', '.join(busy[:5])}\n")
    if args.output != "-":
        sys.stderr.write(f"perf-calibrate: wrote {args.output}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
