"""`perf-opt`: mlir-opt for performance models. Argument parsing only; the work is in
`compiler.driver`, imported after the cheap flags (`--version`) are handled."""

from __future__ import annotations

import sys

from tools.cli_common import VERSION, ArgumentParser, llvm_style


def _bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(text)


def make_parser() -> ArgumentParser:
    p = ArgumentParser(prog="perf-opt", allow_abbrev=False,
                       description="Run a pass pipeline over graph-dialect IR (mlir-opt conventions).")
    p.add_argument("input", nargs="?", default="-", help="input .mlir file, or - for stdin")
    p.add_argument("-o", dest="output", default="-", help="output file (default: stdout)")
    p.add_argument("--pass-pipeline", "-p", dest="pipeline", default="",
                   help="passes to run, e.g. 'fuse,map-gpu{device=a100-sxm4-80gb},cost'")
    p.add_argument("--list-passes", action="store_true", help="list passes with their options")
    p.add_argument("--list-devices", action="store_true", help="list the hardware catalog")
    p.add_argument("--describe-device", metavar="NAME", help="every figure of a device, with sources")
    p.add_argument("--mlir-print-ir-after-all", action="store_true", help="dump IR after every pass (stderr)")
    p.add_argument("--mlir-print-ir-before-all", action="store_true", help="dump IR before every pass (stderr)")
    p.add_argument("--mlir-print-ir-before", default="", metavar="PASS[,PASS]", help="dump IR before these passes")
    p.add_argument("--mlir-print-ir-after", default="", metavar="PASS[,PASS]", help="dump IR after these passes")
    p.add_argument("--mlir-print-ir-tree-dir", metavar="DIR", help="write the IR after each pass to numbered files")
    p.add_argument("--mlir-timing", action="store_true", help="print a per-pass wall-time table (stderr)")
    p.add_argument("--split-input-file", action="store_true", help="process '// -----'-separated chunks independently")
    p.add_argument("--verify-diagnostics", action="store_true",
                   help="check diagnostics against '// expected-error @+1 {{...}}' annotations")
    p.add_argument("--mlir-print-op-generic", action="store_true", help="print ops in generic form")
    p.add_argument("--mlir-print-debuginfo", action="store_true", help="print op locations")
    p.add_argument("--verify-each", type=_bool, default=True, metavar="BOOL",
                   help="verify the IR after each pass (default true)")
    p.add_argument("--emit", choices=("auto", "ir", "none"), default="auto",
                   help="print the final IR: auto (unless the pipeline ends in a report), ir, none")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(llvm_style(sys.argv[1:] if argv is None else argv, parser))
    if args.version:
        print(f"perf-opt {VERSION}")
        return 0
    if args.list_passes:
        from compiler.pass_registry import describe_all

        print(describe_all())
        return 0
    if args.list_devices or args.describe_device:
        from compiler.device_info import describe_device, list_devices_text

        text, status = (list_devices_text(), 0) if args.list_devices else describe_device(args.describe_device)
        (sys.stdout if status == 0 else sys.stderr).write(text + "\n")
        return status

    from compiler.driver import OptOptions, run

    def names(text: str) -> frozenset[str]:
        return frozenset(n.strip() for n in text.split(",") if n.strip())

    return run(OptOptions(
        input=args.input, output=args.output, pipeline=args.pipeline,
        print_before=names(args.mlir_print_ir_before), print_after=names(args.mlir_print_ir_after),
        print_after_all=args.mlir_print_ir_after_all, print_before_all=args.mlir_print_ir_before_all,
        tree_dir=args.mlir_print_ir_tree_dir, timing=args.mlir_timing,
        split_input_file=args.split_input_file, verify_diagnostics=args.verify_diagnostics,
        generic=args.mlir_print_op_generic, debuginfo=args.mlir_print_debuginfo,
        verify_each=args.verify_each, emit_ir={"auto": None, "ir": True, "none": False}[args.emit]))


if __name__ == "__main__":
    sys.exit(main())
