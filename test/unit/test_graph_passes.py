"""Graph passes over the zoo: FLOP parity with torch's counter, FLOPs preserved and
traffic never increased by fusion, and DAG facts that must hold for any model."""

from __future__ import annotations

import copy

import pytest

from compiler.context import make_context
from compiler.model_zoo import ZOO, build
from dialects import graph
from passes import units as U
from passes import work as W
from passes.annotate_deps import AnnotateDepsPass
from passes.assign_precision import AssignPrecisionPass
from passes.fuse import FusePass
from passes.rules_language import RulesError, parse_rules

KNOWN = {c.name.split(".", 1)[1] for c in graph.GRAPH_OPS}


def matrix_flops(module) -> int:
    return sum(W.work_of(op).matrix_flops for op in module.walk() if isinstance(op, graph.GraphOp))


def all_flops(module) -> int:
    return sum(W.work_of(op).flops for op in module.walk() if isinstance(op, graph.GraphOp))


def traffic(module) -> int:
    return sum(U.traffic(u).bytes_moved for u in U.units(module))


def fused(module, **options):
    clone = module.clone()
    FusePass(**options).apply(make_context(), clone)
    return clone


@pytest.mark.parametrize("name", ZOO)
def test_matrix_flops_match_torch_flop_counter(zoo_import, name):
    """Conv, matmul and attention FLOPs agree with FlopCounterMode within 0.5%. The math
    attention kernel is forced: the CPU flash kernel has no FLOP rule (counts 0)."""
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    built = build(name)
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        built.module(*built.inputs)
    reference = counter.get_total_flops()
    ours = matrix_flops(zoo_import(name).module)
    assert ours == pytest.approx(reference, rel=0.005), (ours, reference)


@pytest.mark.parametrize("name", ZOO)
def test_fusion_preserves_flops_and_never_adds_traffic(zoo_import, name):
    module = zoo_import(name).module
    after = fused(module)
    after.verify()
    assert all_flops(after) == all_flops(module)
    assert traffic(after) <= traffic(module)
    assert sum(1 for _ in U.units(after)) <= sum(1 for _ in U.units(module))


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2", "vit_b_16", "swin_t"])
def test_dag_facts(zoo_import, name):
    module = fused(zoo_import(name).module)
    AnnotateDepsPass().apply(make_context(), module)
    attrs = {k: v.value.data for k, v in module.attributes.items() if k.startswith("deps.")}
    units = list(U.units(module))
    stages = [u.attributes["stage"].value.data for u in units]
    assert attrs["deps.units"] == len(units)
    assert attrs["deps.stages"] == len(set(stages)) == max(stages) + 1
    # The longest chain by count visits one unit per stage.
    assert attrs["deps.critical_path_units"] == attrs["deps.stages"]
    assert 1 <= attrs["deps.widest_stage"] <= len(units)
    assert 0 < attrs["deps.critical_path_flops"] <= sum(sum(U.flops(u)) for u in units)
    # Every unit's stage is one more than its latest predecessor's.
    by_name = {U.unit_name(u): u.attributes["stage"].value.data for u in units}
    for unit in units:
        preds = [p.data for p in unit.attributes["preds"].data]
        expected = 1 + max((by_name[p] for p in preds), default=-1)
        assert unit.attributes["stage"].value.data == expected


def test_resnet18_fusion_shape(zoo_import):
    """20 conv+bn(+relu / +residual+relu) kernels plus max pool, average pool, linear."""
    module = fused(zoo_import("resnet18").module)
    patterns = sorted(sg.pattern.data for sg in module.walk() if sg.name == "perf.subgraph")
    assert patterns.count("conv_bn_act") == 12 and patterns.count("conv_bn_residual_act") == 8
    assert sum(1 for _ in U.units(module)) == 23


def test_lower_precision_halves_traffic_except_the_input(zoo_import):
    """bf16 halves every byte but the model input's, which stays fp32 as imported and is
    read once by the first kernel (1x3x224x224 fp32 = 602112 B)."""
    module = fused(zoo_import("resnet18").module)
    fp32 = traffic(module)
    AssignPrecisionPass(default="bf16").apply(make_context(), module)
    image = 3 * 224 * 224 * 4
    assert traffic(module) == pytest.approx((fp32 - image) / 2 + image, rel=1e-6)


def test_on_chip_budget_only_spills(zoo_import):
    """A zero budget cannot change FLOPs or grouping, only move intermediates off chip."""
    module = zoo_import("swin_t").module
    roomy, tight = fused(module), fused(module, on_chip_bytes=0)
    assert all_flops(roomy) == all_flops(tight)
    assert traffic(tight) >= traffic(roomy)


def test_rules_syntax_error_has_position():
    with pytest.raises(RulesError, match=r"^my\.rules:2:17: error: unexpected .end of input."):
        parse_rules("class a = relu\npattern p: relu ->\n", "my.rules", KNOWN)


def test_rules_unknown_class_lists_defined_ones():
    with pytest.raises(RulesError, match="unknown class '@nope'; defined classes: a"):
        parse_rules("class a = relu\npattern p: @nope -> relu", "x.rules", KNOWN)


def test_user_pattern_extends_defaults(tmp_path, zoo_import):
    rules = tmp_path / "pool.rules"
    rules.write_text("pattern pool_linear: adaptive_avg_pool2d -> linear\n")
    module = fused(zoo_import("resnet18").module, rules=str(rules))
    assert any(sg.pattern.data == "pool_linear" for sg in module.walk() if sg.name == "perf.subgraph")
