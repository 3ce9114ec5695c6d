"""map-cpu's weight-reorder pass through a whole model: every convolution pays for
reordering exactly its own weights once per call, and the report names it where it costs."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def resnet18_report():
    from compiler.context import make_context
    from compiler.importer import import_model
    from compiler.model_zoo import build
    from compiler.pipeline import build as build_pipeline
    from passes.report_data import collect

    module = import_model(build("resnet18", 1)).module
    for p in build_pipeline("annotate-deps,assign-precision{default=fp32},"
                            "map-cpu{device=i7-12700k},cost"):
        p.apply(make_context(), module)
    return collect(module)


def test_every_convolution_reorders_its_own_weights(resnet18_report):
    convs = [k for k in resnet18_report["subgraphs"] if k["name"].startswith("conv2d")]
    others = [k for k in resnet18_report["subgraphs"] if not k["name"].startswith("conv2d")]
    assert len(convs) == 20                       # 17 3x3/7x7 + 3 downsample 1x1
    # resnet18's convolution weights: 11.68 M parameters less the FC's 513,000, in FP32
    assert sum(k["weight_reorder_bytes"] for k in convs) == (11_689_512 - 513_000 - 9_600) * 4
    assert all(k["weight_reorder_s"] > 0 for k in convs)
    # the FC is an FP32 GEMM on the FMA units (the BLAS packs it inside), BN/ReLU have no weights
    assert all(k["weight_reorder_bytes"] == 0 for k in others)


def test_the_report_names_the_reorder_where_it_costs(resnet18_report):
    big = max(resnet18_report["subgraphs"], key=lambda k: k["weight_reorder_bytes"])
    assert big["weight_reorder_bytes"] == 512 * 512 * 9 * 4
    assert big["weight_reorder_s"] >= 0.1 * big["latency_s"]
    assert f"{big['weight_reorder_s'] * 1e6:.1f} us reordering 9.44 MB of weights" in big["reason"]
