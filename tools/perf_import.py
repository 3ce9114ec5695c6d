"""`perf-import`: a PyTorch model -> graph-dialect IR (with locations). Argument parsing
only; torch is imported by `compiler.importer` when a model is actually built."""

from __future__ import annotations

import sys

from tools.cli_common import ArgumentParser, llvm_style


def _shape(text: str) -> tuple[int, ...]:
    try:
        dims = tuple(int(d) for d in text.lower().split("x"))
    except ValueError:
        raise ValueError(text) from None
    if not dims or any(d < 1 for d in dims):
        raise ValueError(text)
    return dims


def make_parser() -> ArgumentParser:
    p = ArgumentParser(prog="perf-import", allow_abbrev=False,
                       description="Import a PyTorch model into perf-opt's graph dialect.")
    p.add_argument("model", nargs="?", help="torchvision model name, zoo extra, or path/to/file.py:factory")
    p.add_argument("--batch", type=int, default=1, help="batch size (default 1)")
    p.add_argument("--input-shape", type=_shape, metavar="NxCxHxW",
                   help="full input shape, batch included (overrides --batch)")
    p.add_argument("--dtype", default="fp32", choices=("fp32", "fp16", "bf16", "fp64"))
    p.add_argument("-o", dest="output", default="-", help="output .mlir file (default: stdout)")
    p.add_argument("--list-models", action="store_true", help="list the model names accepted")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(llvm_style(sys.argv[1:] if argv is None else argv, parser))
    from compiler.model_zoo import ModelError, build, list_models

    if args.list_models:
        print("\n".join(list_models()))
        return 0
    if not args.model:
        parser.error("a MODEL is required (see --list-models)")

    from compiler.importer import ExportError, import_model, write_module

    try:
        result = import_model(build(args.model, args.batch, args.input_shape, args.dtype))
    except (ModelError, ExportError) as err:
        sys.stderr.write(f"perf-import: error: {err}\n")
        return 1
    try:
        write_module(result.module, args.output)
    except OSError as err:
        sys.stderr.write(f"perf-import: error: cannot write '{args.output}': {err.strerror}\n")
        return 1
    generic = sum(result.generic_ops.values())
    detail = ", ".join(f"{n} x{c}" for n, c in result.generic_ops.most_common())
    sys.stderr.write(f"perf-import: {args.model}: {result.op_count} ops, {generic} generic ops"
                     f"{' (' + detail + ')' if detail else ''}; imported in {result.total_seconds:.2f} s\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
