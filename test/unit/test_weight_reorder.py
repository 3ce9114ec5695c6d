"""map-cpu's reorder passes through a whole model: every convolution pays for reordering
exactly its own weights once per call, and in eager code its NCHW activations too (not in a
compiled graph, which is channels-last); the report names the reorders where they cost."""

from __future__ import annotations

import pytest


def _report(fuse: str):
    from compiler.context import make_context
    from compiler.importer import import_model
    from compiler.model_zoo import build
    from compiler.pipeline import build as build_pipeline
    from passes.report_data import collect

    module = import_model(build("resnet18", 1)).module
    for p in build_pipeline(f"{fuse}annotate-deps,assign-precision{{default=fp32}},"
                            "map-cpu{device=i7-12700k},cost"):
        p.apply(make_context(), module)
    return collect(module)


@pytest.fixture(scope="module")
def resnet18_report():
    return _report("")


def test_a_compiled_graph_reorders_weights_but_not_activations():
    compiled = _report("fuse,")["subgraphs"]
    convs = [k for k in compiled if k["weight_reorder_bytes"]]
    assert len(convs) == 20
    assert all(k["activation_reorder_bytes"] == 0 and k["activation_reorder_s"] == 0.0
               for k in compiled)


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
    both = big["weight_reorder_s"] + big["activation_reorder_s"]
    assert (f"{both * 1e6:.1f} us reordering 9.44 MB of weights and 0.20 MB of activations"
            in big["reason"])


def test_eager_convolutions_reorder_their_activations(resnet18_report):
    """Each eager convolution copies its NCHW source into the blocked layout and its result
    back: exactly its input and output bytes (resnet18 b1, FP32: a 64-channel 3x3 layer at
    56x56 reads and writes 64x56x56), except that the 7x7 stem reads its 3-channel image as
    it is and reorders only its 64x112x112 result."""
    convs = [k for k in resnet18_report["subgraphs"] if k["name"].startswith("conv2d")]
    stem = next(k for k in convs if k["name"] == "conv2d")
    assert stem["activation_reorder_bytes"] == 64 * 112 * 112 * 4
    layer1 = next(k for k in convs if k["name"] == "conv2d_1")
    assert layer1["activation_reorder_bytes"] == 2 * 64 * 56 * 56 * 4
    assert all(k["activation_reorder_s"] > 0 for k in convs)
    assert all(k["activation_reorder_bytes"] == 0 for k in resnet18_report["subgraphs"]
               if not k["name"].startswith("conv2d"))
