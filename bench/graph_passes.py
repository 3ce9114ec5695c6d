"""Fusion and dependency figures for the zoo: units before and after `fuse`, memory
traffic before and after (and the saving), stages, widest stage and critical path.

    .venv/bin/python bench/graph_passes.py [--models resnet18 ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def figures(name: str) -> dict:
    from compiler.context import make_context
    from compiler.importer import import_model
    from compiler.model_zoo import build
    from passes import units as U
    from passes.annotate_deps import AnnotateDepsPass
    from passes.fuse import FusePass

    module = import_model(build(name)).module
    units_before = sum(1 for _ in U.units(module))
    traffic_before = sum(U.traffic(u).bytes_moved for u in U.units(module))
    FusePass().apply(make_context(), module)
    AnnotateDepsPass().apply(make_context(), module)
    traffic_after = sum(U.traffic(u).bytes_moved for u in U.units(module))
    a = {k: v.value.data for k, v in module.attributes.items() if k.startswith("deps.")}
    return {"units_before": units_before, "units_after": a["deps.units"],
            "mb_before": traffic_before / 1e6, "mb_after": traffic_after / 1e6,
            "saving": 1 - traffic_after / traffic_before, "stages": a["deps.stages"],
            "widest": a["deps.widest_stage"], "critical": a["deps.critical_path_units"],
            "critical_gflops": a["deps.critical_path_flops"] / 1e9}


def main() -> None:
    from compiler.model_zoo import ZOO

    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="*", default=list(ZOO))
    args = parser.parse_args()
    print(f"{'model':<21}{'kernels':>8}{'fused':>7}{'MB before':>11}{'MB after':>10}{'saved':>7}"
          f"{'stages':>8}{'widest':>8}{'crit':>6}{'crit GFLOP':>12}")
    for name in args.models:
        f = figures(name)
        print(f"{name:<21}{f['units_before']:>8}{f['units_after']:>7}{f['mb_before']:>11.1f}"
              f"{f['mb_after']:>10.1f}{100 * f['saving']:>6.1f}%{f['stages']:>8}{f['widest']:>8}"
              f"{f['critical']:>6}{f['critical_gflops']:>12.3f}")


if __name__ == "__main__":
    main()
