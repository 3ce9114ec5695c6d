"""The cost report rendered for a person (text) or a machine (JSON, CSV), from the
dictionary `passes.report_data.collect` builds."""

from __future__ import annotations

import csv
import io
import json


def _time(s: float) -> str:
    if s >= 1:
        return f"{s:.3f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3f} ms"
    return f"{s * 1e6:.1f} us"


def _bytes(b: float) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if b >= size:
            return f"{b / size:.2f} {unit}"
    return f"{b:.0f} B"


def _energy(j: float) -> str:
    return f"{j:.3f} J" if j >= 1 else f"{j * 1e3:.3f} mJ"


def text(report: dict, top: int) -> str:
    r = report
    mode = f" ({r['power_mode']} power mode)" if r.get("power_mode") else ""
    lines = [
        f"perf-opt cost report: {r['model']} on {r['device']}{mode}",
        f"  batch {r['batch']}, precision {r['precision']}, {r['runtime']} runtime, {r['kernels']} kernels",
        "",
        f"  latency        {_time(r['latency_s'])}   (serial sum of kernels {_time(r['serial_latency_s'])})",
        *([f"  host issue     {_time(r['host_issue_s'])}   (eager: dispatch + launch of every kernel, "
           f"overlapped with the device's work; the latency is the later of the two)"]
          if r.get("host_issue_s") is not None else []),
        *([f"  program start  {_time(r['program_overhead_s'])}   (once per inference: the host starts the "
           f"compiled program and collects its result)"]
          if r.get("program_overhead_s") else []),
        *([f"  graph call     {_time(r['compiled_call_s'])}   (once per inference: torch.compile's "
           f"frame evaluation and wrapper)"]
          if r.get("compiled_call_s") else []),
        *([f"  guard check    {_time(r['guard_check_s'])}   (once per inference: Dynamo's guards on "
           f"the model's {r['parameters']} parameters)"]
          if r.get("guard_check_s") else []),
        f"  throughput     {r['throughput_per_s']:,.1f} samples/s",
        f"  energy         {_energy(r['energy_j'])} per batch, {_energy(r['energy_per_sample_j'])} per sample, "
        f"average power {r['average_power_w']:.1f} W",
        "                 compute {0}, data movement {1}, static {2}".format(
            *(_energy(r["energy_breakdown_j"][k]) for k in ("compute", "memory", "static"))),
        f"  peak memory    {_bytes(r['peak_memory_bytes'])} = weights {_bytes(r['memory_breakdown_bytes']['weights'])}"
        f" + activations {_bytes(r['memory_breakdown_bytes']['activations'])}"
        f" + workspace {_bytes(r['memory_breakdown_bytes']['workspace'])}",
        f"                 {'fits in' if r['fits'] else 'DOES NOT FIT in'} {_bytes(r['memory_capacity_bytes'])}"
        f" of device memory",
        f"  work           {r['flops'] / 1e9:.3f} GFLOP, {r['bytes_moved'] / 1e6:.1f} MB moved",
    ]
    split = r["time_by_bottleneck_s"]
    total = sum(split.values()) or 1.0
    lines.append("  time by bottleneck   " + ", ".join(
        f"{k} {100 * v / total:.0f}%" for k, v in split.items()))
    lines.append(f"  utilization    {r['utilization']:.0%} of compute units hold work (FLOP-weighted)")
    lines.append(f"  efficiency     {r['efficiency']:.0%} of the executing unit's peak is reached (FLOP-weighted)")
    lines += ["", f"  top {min(top, len(r['subgraphs']))} kernels by latency:",
              f"    {'kernel':<28}{'ops':>4}{'latency':>12}{'share':>7}{'util':>6}{'eff':>6}  why"]
    ranked = sorted(r["subgraphs"], key=lambda e: -e["latency_s"])[:top]
    for e in ranked:
        share = e["latency_s"] / r["serial_latency_s"] if r["serial_latency_s"] else 0.0
        lines.append(f"    {e['name'][:27]:<28}{e['ops']:>4}{_time(e['latency_s']):>12}{share:>7.0%}"
                     f"{e['utilization']:>6.0%}{e['efficiency']:>6.0%}  {e['reason']}")
    if r["suggestions"]:
        lines += ["", "  suggestions:"]
        lines += [f"    - {s['text']}" for s in r["suggestions"]]
    if r.get("caveats"):
        lines += ["", "  caveats:"]
        lines += [f"    - {c}" for c in r["caveats"]]
    return "\n".join(lines) + "\n"


def as_json(report: dict) -> str:
    return json.dumps(report, indent=2, sort_keys=False) + "\n"


CSV_COLUMNS = ("name", "location", "pattern", "ops", "stage", "flops", "bytes", "latency_s", "compute_s",
               "memory_s", "overhead_s", "energy_j", "bottleneck", "utilization", "efficiency",
               "units_used", "units_total", "exec_unit", "exec_precision", "memory_level", "reason")


def as_csv(report: dict) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for entry in report["subgraphs"]:
        writer.writerow(entry)
    return out.getvalue()
