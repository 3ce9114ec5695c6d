"""Pages faulted in per run: the glibc heap simulation (targets/glibc_heap.py) against the
page faults perf-validate counted on the real runs (`page_faults_per_run`, 4 KiB pages).

    .venv/bin/python bench/allocator_faults.py build/intel-eager.json
    .venv/bin/python bench/allocator_faults.py targets/measurements/ci-host-2core/eager-datasheet.json

Rows measured with --pin-allocator fault nothing by construction and are skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGE = 4096


def simulated_fault_bytes(model: str, batch: int, precision: str) -> int:
    from compiler.context import make_context
    from compiler.importer import import_model
    from compiler.model_zoo import build
    from compiler.pipeline import build as build_pipeline
    from passes.liveness import fresh_pages, schedule

    module = import_model(build(model, batch)).module
    for p in build_pipeline(f"annotate-deps,assign-precision{{default={precision}}}"):
        p.apply(make_context(), module)
    return sum(f.total for f in fresh_pages(schedule(module)).values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", metavar="FILE", help="perf-validate --json output")
    args = parser.parse_args()
    for path in args.files:
        result = json.loads(Path(path).read_text())
        if result.get("allocator") not in (None, "default"):
            print(f"== {path}: allocator {result['allocator']}, skipped")
            continue
        print(f"== {path} ({result['machine']['cpu_model']}, {result.get('date', '?')})")
        print(f"{'model':20} {'batch':>5} {'prec':5} {'measured MB':>12} {'simulated MB':>13} {'ratio':>6}")
        ratios = []
        for row in result["rows"]:
            if row.get("page_faults_per_run") is None or row.get("runtime") != "eager":
                continue
            measured = row["page_faults_per_run"] * PAGE
            sim = simulated_fault_bytes(row["model"], row["batch"], row["precision"])
            ratio = sim / measured if measured else None
            if ratio is not None and measured > 4e6:  # below a few MB the count is noise
                ratios.append(ratio)
            print(f"{row['model']:20} {row['batch']:5} {row['precision']:5} {measured / 1e6:12.1f} "
                  f"{sim / 1e6:13.1f} {'' if ratio is None else f'{ratio:6.2f}'}")
        if ratios:
            ratios.sort()
            print(f"simulated / measured over {len(ratios)} rows faulting > 4 MB: "
                  f"median {ratios[len(ratios) // 2]:.2f}, range {ratios[0]:.2f}-{ratios[-1]:.2f}")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
