"""The importer: every zoo model imports, ops carry locations, nothing is dropped."""

from __future__ import annotations

import io
import textwrap
from collections import Counter

import pytest
from xdsl.dialects.builtin import NameLoc
from xdsl.printer import Printer

from compiler.model_zoo import ZOO, ModelError, build
from compiler.importer import ExportError, import_model
from dialects import graph

# Models the issue requires to import with no generic op at all.
STRICT = ZOO[:7]


def op_names(module) -> Counter:
    return Counter(op.name for op in module.walk() if isinstance(op, graph.GraphOp))


@pytest.mark.parametrize("name", ZOO)
def test_zoo_model_imports_and_verifies(zoo_import, name):
    result = zoo_import(name)
    result.module.verify()
    assert result.op_count > 0
    if name in STRICT:
        assert not result.generic_ops, f"{name} has generic ops: {dict(result.generic_ops)}"
    # Every generic op is counted: the report and the IR agree.
    assert op_names(result.module)["graph.generic"] == sum(result.generic_ops.values())


@pytest.mark.parametrize("name", ["resnet18", "vit_b_16", "transformer_encoder"])
def test_every_op_has_its_fx_name_as_location(zoo_import, name):
    for op in zoo_import(name).module.walk():
        if isinstance(op, graph.GraphOp):
            assert isinstance(op.location, NameLoc) and op.location.desc.data, op


def test_resnet18_op_census(zoo_import):
    """Hand count from torchvision's resnet18: 20 convs each followed by a batch norm,
    17 ReLUs (1 stem + 2 per basic block x 8), 8 residual adds, one of each pooling, the
    flatten and the classifier."""
    names = op_names(zoo_import("resnet18").module)
    assert names["graph.conv2d"] == 20 and names["graph.batch_norm"] == 20
    assert names["graph.relu"] == 17 and names["graph.add"] == 8
    assert names["graph.max_pool2d"] == 1 and names["graph.adaptive_avg_pool2d"] == 1
    assert names["graph.linear"] == 1 and names["graph.reshape"] == 1
    # conv + bn weights: 20 conv weights, 4 tensors per bn (weight, bias, mean, var), fc w+b,
    # and the 20 num_batches_tracked buffers the exporter lifts as well.
    weights = [op for op in zoo_import("resnet18").module.walk() if isinstance(op, graph.WeightOp)]
    assert {w.param.data for w in weights} >= {"conv1.weight", "fc.weight", "fc.bias", "bn1.running_var"}


def test_inplace_ops_of_the_model_are_marked(zoo_import):
    """torchvision's ResNet uses ReLU(inplace=True) and `out += identity`; MobileNetV2 uses
    ReLU6(inplace=True) but a functional `x + conv(x)`. The IR is functional either way;
    `inplace` records what eager PyTorch allocates nothing for."""
    def marked(name: str, op_type) -> tuple[int, int]:
        ops = [op for op in zoo_import(name).module.walk() if isinstance(op, op_type)]
        return sum(1 for op in ops if graph.INPLACE_ATTR in op.attributes), len(ops)

    assert marked("resnet18", graph.ReluOp) == (17, 17)
    assert marked("resnet18", graph.AddOp) == (8, 8)
    assert marked("mobilenet_v2", graph.Relu6Op) == (35, 35)
    assert marked("mobilenet_v2", graph.AddOp) == (0, 10)
    assert marked("vit_b_16", graph.GeluOp) == (0, 12)


def test_encoder_fast_path_adds_and_activation_are_in_place(zoo_import):
    """Eager nn.TransformerEncoderLayer runs `torch._transformer_encoder_layer_fwd`, which
    adds each residual into its sublayer's output (`add_`) and applies the FFN ReLU in
    place; the exported slow path does neither. 4 layers: 8 adds and 4 ReLUs, each add
    writing into the operand only it reads (the attention or FFN output)."""
    module = zoo_import("transformer_encoder").module
    adds = [op for op in module.walk() if isinstance(op, graph.AddOp)]
    relus = [op for op in module.walk() if isinstance(op, graph.ReluOp)]
    assert len(adds) == 8 and len(relus) == 4
    assert all(graph.INPLACE_ATTR in op.attributes for op in adds + relus)
    for add in adds:
        written, residual = add.operands
        assert len(list(written.uses)) == 1 and len(list(residual.uses)) > 1
    # vit_b_16's encoder blocks are torchvision's own modules: no fast path, nothing marked
    vit_adds = [op for op in zoo_import("vit_b_16").module.walk() if isinstance(op, graph.AddOp)]
    assert not any(graph.INPLACE_ATTR in op.attributes for op in vit_adds)


def test_an_encoder_layer_with_an_activation_module_is_on_the_fast_path_too():
    import torch

    from compiler.model_zoo import BuiltModel

    layer = torch.nn.TransformerEncoderLayer(32, 2, 64, activation=torch.nn.GELU(), batch_first=True)
    module = import_model(BuiltModel("enc", torch.nn.Sequential(layer).eval(),
                                     (torch.randn(1, 8, 32),), 1)).module
    ops = [op for op in module.walk() if isinstance(op, (graph.AddOp, graph.GeluOp))]
    assert len(ops) == 3 and all(graph.INPLACE_ATTR in op.attributes for op in ops)


@pytest.mark.parametrize("change", ["batch_first", "training", "eps", "hook"])
def test_encoder_layers_off_the_fast_path_stay_out_of_place(change):
    import torch

    from compiler.model_zoo import BuiltModel

    layer = torch.nn.TransformerEncoderLayer(32, 2, 64, batch_first=change != "batch_first")
    if change == "eps":
        layer.norm2.eps = 1e-6
    if change == "hook":
        layer.linear1.register_forward_hook(lambda *a: None)
    model = torch.nn.Sequential(layer).train(change == "training")
    shape = (8, 1, 32) if change == "batch_first" else (1, 8, 32)
    module = import_model(BuiltModel("enc", model, (torch.randn(*shape),), 1)).module
    ops = [op for op in module.walk() if isinstance(op, (graph.AddOp, graph.ReluOp))]
    assert len(ops) == 3 and not any(graph.INPLACE_ATTR in op.attributes for op in ops)


def test_attention_that_eager_pytorch_runs_natively_is_marked(zoo_import):
    """In eval mode nn.MultiheadAttention runs its attention as aten::
    _native_multi_head_attention (bmm, softmax, bmm on a CPU): inside an encoder layer's
    fast path, which torch.compile keeps ("always"), and in ViT-B/16's blocks, which a
    compiled graph traces into flash attention ("eager")."""
    def marks(name):
        return [op.attributes[graph.NATIVE_ATTENTION_ATTR].data
                if graph.NATIVE_ATTENTION_ATTR in op.attributes else None
                for op in zoo_import(name).module.walk()
                if isinstance(op, graph.ScaledDotProductAttentionOp)]

    assert marks("transformer_encoder") == ["always"] * 4
    assert marks("vit_b_16") == ["eager"] * 12


@pytest.mark.parametrize("case", ["self", "cross", "batch_first", "odd_heads", "training"])
def test_only_self_attention_of_an_eligible_module_is_marked_native(case):
    """MultiheadAttention.forward's fast path needs one tensor as query, key and value,
    batch_first, an even head count and eval mode; otherwise F.scaled_dot_product_attention
    runs, which the calibration's flash benchmarks time."""
    import torch

    from compiler.model_zoo import BuiltModel

    class Attend(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = torch.nn.MultiheadAttention(32, 1 if case == "odd_heads" else 2,
                                                    batch_first=case != "batch_first")

        def forward(self, x, y):
            return self.attn(x, y if case == "cross" else x, y if case == "cross" else x,
                             need_weights=False)[0]

    model = Attend().train(case == "training")
    x = torch.randn(1, 8, 32)
    module = import_model(BuiltModel("attend", model, (x, torch.randn(1, 8, 32)), 1)).module
    sdpa = [op for op in module.walk() if isinstance(op, graph.ScaledDotProductAttentionOp)]
    assert len(sdpa) == 1
    marked = sdpa[0].attributes.get(graph.NATIVE_ATTENTION_ATTR)
    assert (marked.data if marked else None) == ("eager" if case == "self" else None)


def test_module_attributes_and_batch():
    result = import_model(build("mlp", batch=4))
    attrs = result.module.attributes
    assert attrs[graph.MODEL_ATTR].data == "mlp"
    assert attrs[graph.BATCH_ATTR].value.data == 4
    assert graph.ints(attrs[graph.INPUT_SHAPES_ATTR].data[0]) == (4, 784)
    assert op_names(result.module) == Counter({"graph.linear": 3, "graph.relu": 2, "graph.weight": 6})


def test_weights_carry_no_data(zoo_import):
    """The IR text of resnet50 stays small: 25M parameters would be >100 MB as data."""
    stream = io.StringIO()
    Printer(stream=stream, print_debuginfo=True).print_op(zoo_import("resnet50").module)
    assert len(stream.getvalue()) < 200_000
    assert "dense<" not in stream.getvalue()


def test_print_parse_round_trip(zoo_import):
    from compiler.context import make_context
    from xdsl.parser import Parser

    for name in ("resnet18", "mobilenet_v2", "swin_t"):
        first = io.StringIO()
        Printer(stream=first, print_debuginfo=True).print_op(zoo_import(name).module)
        reparsed = Parser(make_context(), first.getvalue()).parse_module()
        second = io.StringIO()
        Printer(stream=second, print_debuginfo=True).print_op(reparsed)
        assert first.getvalue() == second.getvalue()


def test_user_factory_with_inputs(tmp_path):
    source = tmp_path / "mine.py"
    source.write_text(textwrap.dedent("""
        import torch
        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
            def forward(self, x):
                return torch.relu(self.conv(x)) * 2.0
        def make():
            return Net(), (torch.randn(2, 3, 16, 16),)
        def bare():
            return Net()
    """))
    result = import_model(build(f"{source}:make"))
    assert op_names(result.module)["graph.conv2d"] == 1
    assert result.module.attributes[graph.BATCH_ATTR].value.data == 2
    with pytest.raises(ModelError, match="--input-shape"):
        build(f"{source}:bare")
    shaped = import_model(build(f"{source}:bare", input_shape=(1, 3, 8, 8)))
    assert graph.ints(shaped.module.attributes[graph.INPUT_SHAPES_ATTR].data[0]) == (1, 3, 8, 8)
    with pytest.raises(ModelError, match="callables found: .*bare.*make"):
        build(f"{source}:missing")


def test_unknown_model_lists_valid_names():
    with pytest.raises(ModelError, match="valid models: .*resnet18"):
        build("resnet19")


def test_unexportable_model_reports_reason(tmp_path):
    source = tmp_path / "dynamic.py"
    source.write_text(textwrap.dedent("""
        import torch
        class Branchy(torch.nn.Module):
            def forward(self, x):
                if x.sum() > 0:
                    return x * 2
                return x
        def make():
            return Branchy(), (torch.randn(4),)
    """))
    with pytest.raises(ExportError) as info:
        import_model(build(f"{source}:make"))
    assert "\n" not in str(info.value) and len(str(info.value)) > 20


def test_unmodeled_op_is_kept_as_generic(tmp_path):
    source = tmp_path / "odd.py"
    source.write_text(textwrap.dedent("""
        import torch
        class Odd(torch.nn.Module):
            def forward(self, x):
                return torch.cumsum(x, dim=1)
        def make():
            return Odd(), (torch.randn(2, 5),)
    """))
    result = import_model(build(f"{source}:make"))
    assert result.generic_ops == Counter({"aten.cumsum.default": 1})
    generic = next(op for op in result.module.walk() if isinstance(op, graph.GenericOp))
    assert generic.target.data == "aten.cumsum.default"
    assert generic.attributes["arg1"].value.data == 1


def test_normalizations_import_by_name(tmp_path):
    source = tmp_path / "norms.py"
    source.write_text(textwrap.dedent("""
        import torch
        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.gn = torch.nn.GroupNorm(2, 8)
                self.bn = torch.nn.BatchNorm2d(8)
                self.ln = torch.nn.LayerNorm(16)
            def forward(self, x):
                return self.ln(self.bn(self.gn(x)))
        def make():
            return Net(), (torch.randn(1, 8, 16, 16),)
    """))
    result = import_model(build(f"{source}:make"))
    names = op_names(result.module)
    assert names["graph.group_norm"] == names["graph.batch_norm"] == names["graph.layer_norm"] == 1
    assert not result.generic_ops
    group = next(op for op in result.module.walk() if isinstance(op, graph.GroupNormOp))
    assert graph.int_value(group.groups) == 2 and len(group.affine) == 2
