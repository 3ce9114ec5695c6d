"""torch.nn.Module -> graph dialect, through torch.export.

The exported program is decomposed to core ATen except for the ops the graph dialect
models by name (conv2d, linear, attention, norms, activations...), which are kept whole:
their cost is that of one kernel, and decomposing them would lose that. Parameters,
buffers and lifted constants become `graph.weight` ops (name and type, never data).
Each op carries its FX node name as its location. An ATen op without a lowering is kept
as `graph.generic` and counted, never dropped.

torch is imported inside the functions: `perf-opt` imports this package's siblings
without paying for torch.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    BFloat16Type,
    Float16Type,
    Float32Type,
    Float64Type,
    FloatAttr,
    IntegerAttr,
    IntegerType,
    ModuleOp,
    NameLoc,
    NoneAttr,
    Signedness,
    StringAttr,
    TensorType,
    UnitAttr,
    f64,
    i64,
)
from xdsl.ir import Attribute, Block, Region, SSAValue

from compiler.aten_lowering import LOWERINGS, Call, Unmodeled, i64_array
from compiler.eager_fast_paths import (
    fast_path_encoder_layers, in_place_args, native_attention, native_attention_modules,
)
from compiler.model_zoo import BuiltModel
from dialects import graph


class ExportError(Exception):
    """torch.export could not trace the model; the message is the exporter's reason."""


@dataclass
class ImportResult:
    module: ModuleOp
    generic_ops: Counter = field(default_factory=Counter)  # ATen name -> count
    export_seconds: float = 0.0
    total_seconds: float = 0.0

    @property
    def op_count(self) -> int:
        """Ops that compute or move data (weights and the return excluded)."""
        return sum(1 for op in self.module.walk()
                   if isinstance(op, graph.GraphOp) and not isinstance(op, graph.WeightOp))


def _dtype_table():
    import torch

    return {
        torch.float32: Float32Type(), torch.float16: Float16Type(), torch.bfloat16: BFloat16Type(),
        torch.float64: Float64Type(), torch.int64: i64, torch.int32: IntegerType(32),
        torch.int16: IntegerType(16), torch.int8: IntegerType(8),
        torch.uint8: IntegerType(8, Signedness.UNSIGNED), torch.bool: IntegerType(1),
    }


# Ops kept whole instead of decomposed: each is one kernel in every runtime we model.
_KEEP_WHOLE = (
    "linear.default", "conv2d.default", "scaled_dot_product_attention.default",
    "layer_norm.default", "group_norm.default", "gelu.default", "silu.default",
    "hardswish.default", "hardsigmoid.default", "batch_norm.default",
    "adaptive_avg_pool2d.default", "flatten.using_ints", "relu6.default", "hardtanh.default",
)


def _decomposition_table():
    import torch

    table = torch.export.default_decompositions()
    for name in _KEEP_WHOLE:
        packet, overload = name.split(".")
        op = getattr(getattr(torch.ops.aten, packet), overload)
        if op in table:
            del table[op]
    return table


def _first_line_reason(err: BaseException) -> str:
    """The exporter's reason as one paragraph (its messages run to pages)."""
    text = str(err).strip()
    paragraph = text.split("\n\n")[0].replace("\n", " ")
    return f"{type(err).__name__}: {paragraph[:1200]}"


def export(built: BuiltModel):
    import torch

    try:
        with torch.no_grad():
            program = torch.export.export(built.module, built.inputs)
        return program.run_decompositions(_decomposition_table())
    except Exception as err:  # torch raises many types; all mean "cannot export"
        raise ExportError(_first_line_reason(err)) from None


class _Translator:
    """Walks the FX graph once, building the func body."""

    def __init__(self, program, fast_path_layers: frozenset[str] = frozenset(),
                 native_attention_in: dict[str, str] | None = None):
        self.program = program
        self.fast_path_layers = fast_path_layers
        self.native_attention_in = native_attention_in or {}
        self.dtypes = _dtype_table()
        self.values: dict[Any, Any] = {}  # fx.Node -> SSAValue | list[SSAValue | None]
        self.generic = Counter()

    def tensor_type(self, fake) -> TensorType | None:
        if fake is None or not hasattr(fake, "shape"):
            return None
        dtype = self.dtypes.get(fake.dtype)
        if dtype is None:
            return None
        return TensorType(dtype, [int(s) for s in fake.shape])

    def out_types(self, node) -> list[TensorType | None]:
        val = node.meta.get("val")
        if isinstance(val, (tuple, list)):
            return [self.tensor_type(v) for v in val]
        return [self.tensor_type(val)]

    def resolve(self, arg):
        """FX arguments with nodes replaced by SSA values (recursively for lists)."""
        import torch.fx

        if isinstance(arg, torch.fx.Node):
            return self.values[arg]
        if isinstance(arg, (list, tuple)):
            return type(arg)(self.resolve(a) for a in arg)
        return arg

    def translate(self, name: str, batch: int) -> ModuleOp:
        program = self.program
        specs = {s.arg.name: s for s in program.graph_signature.input_specs}
        placeholders = [n for n in program.graph.nodes if n.op == "placeholder"]
        user_inputs = [n for n in placeholders if specs[n.name].kind.name == "USER_INPUT"]
        arg_types = [self.tensor_type(n.meta.get("val")) for n in user_inputs]
        if any(t is None for t in arg_types):
            raise ExportError("a model input is not a tensor of a supported dtype")
        block = Block(arg_types=arg_types)
        for node, arg in zip(user_inputs, block.args):
            arg.name_hint = _ssa_name(node.name)
            arg.location = _loc(node.name)
            self.values[node] = arg

        for node in placeholders:
            spec = specs[node.name]
            if spec.kind.name == "USER_INPUT":
                continue
            op = graph.WeightOp.create(result_types=[self.tensor_type(node.meta.get("val"))],
                                       attributes={"param": StringAttr(spec.target or node.name)},
                                       location=_loc(node.name))
            op.results[0].name_hint = _ssa_name(node.name)
            block.add_op(op)
            self.values[node] = op.results[0]

        outputs: list[SSAValue] = []
        for node in program.graph.nodes:
            if node.op == "call_function":
                self.call(node, block)
            elif node.op == "output":
                outputs = [self.values[n] for n in node.args[0]]
        block.add_op(func.ReturnOp(*outputs))
        fn = func.FuncOp("forward", (arg_types, [v.type for v in outputs]), Region(block))

        module = ModuleOp([fn])
        module.attributes.update({
            graph.MODEL_ATTR: StringAttr(name),
            graph.BATCH_ATTR: IntegerAttr(batch, i64),
            graph.INPUT_SHAPES_ATTR: ArrayAttr([i64_array(t.get_shape()) for t in arg_types]),
            graph.DTYPE_ATTR: StringAttr(_precision_name(arg_types[0].element_type) if arg_types else "fp32"),
        })
        return module

    def call(self, node, block: Block) -> None:
        import operator

        if node.target is operator.getitem:
            produced = self.values[node.args[0]]
            self.values[node] = produced[node.args[1]]
            return
        target = _target_name(node.target)
        used = {u.args[1] for u in node.users if u.target is operator.getitem} or {0}
        fast_path_args = in_place_args(node, self.fast_path_layers)
        args = fast_path_args if fast_path_args is not None else node.args
        call = Call(target, self.resolve(args), self.resolve(dict(node.kwargs)),
                    self.out_types(node), _loc(node.name), block, used)
        lowering = LOWERINGS.get(target)
        produced: Any = None
        if lowering is not None:
            mark = block.last_op
            try:
                produced = lowering(call)
            except Unmodeled:
                _erase_after(block, mark)
                produced = None
        if produced is None:
            produced = self.generic_op(call)
        # Lowerings of tuple-returning ATen ops may give only the outputs they model.
        if isinstance(node.meta.get("val"), (tuple, list)):
            produced = [produced] if isinstance(produced, SSAValue) else list(produced)
        elif not isinstance(produced, SSAValue):
            produced = produced[0]
        if isinstance(produced, SSAValue):
            produced.name_hint = _ssa_name(node.name)
            if (_from_inplace_op(node) or fast_path_args is not None) and isinstance(
                    produced.owner, (graph.ElementwiseUnaryOp, graph.ElementwiseBinaryOp)):
                produced.owner.attributes[graph.INPLACE_ATTR] = UnitAttr()
            native = native_attention(node, self.native_attention_in)
            if native is not None and isinstance(produced.owner, graph.ScaledDotProductAttentionOp):
                produced.owner.attributes[graph.NATIVE_ATTENTION_ATTR] = StringAttr(native)
        self.values[node] = produced

    def generic_op(self, call: Call):
        self.generic[call.target] += 1
        operands: list[SSAValue] = []
        attributes: dict[str, Attribute] = {"target": StringAttr(call.target)}
        flat = list(call.args) + [call.kwargs[k] for k in sorted(call.kwargs)]
        names = [str(i) for i in range(len(call.args))] + sorted(call.kwargs)
        for key, value in zip(names, flat):
            items = value if isinstance(value, (list, tuple)) else [value]
            if items and all(isinstance(v, SSAValue) for v in items):
                operands.extend(items)
            elif value is not None:
                attributes[f"arg{key}" if key.isdigit() else key] = _scalar(value)
        result_types = [t for t in call.out_types if t is not None]
        op = graph.GenericOp.create(operands=operands, result_types=result_types,
                                    attributes=attributes, location=call.location)
        call.block.add_op(op)
        results = iter(op.results)
        return [next(results) if t is not None else None for t in call.out_types]


def _scalar(value: Any) -> Attribute:
    if isinstance(value, bool):
        return UnitAttr() if value else IntegerAttr(0, IntegerType(1))
    if isinstance(value, int):
        return IntegerAttr(value, i64)
    if isinstance(value, float):
        return FloatAttr(value, f64)
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return i64_array(value)
    return StringAttr(str(value))


def _erase_after(block: Block, mark) -> None:
    """Removes ops a failed lowering already emitted."""
    while block.last_op is not mark:
        block.erase_op(block.last_op)


def _from_inplace_op(node) -> bool:
    """Whether the model called an in-place ATen op (`aten.relu_`, `aten.add_`) here.
    run_decompositions functionalizes the graph; the node's `from_node` provenance still
    names the op of the exported (training IR) graph it came from."""
    stack = list(node.meta.get("from_node") or ())
    while stack:
        source = stack.pop()
        parts = str(getattr(source, "target", "")).split(".")
        if len(parts) >= 2 and parts[0] == "aten" and parts[1].endswith("_") \
                and not parts[1].endswith("__"):
            return True
        stack.extend(getattr(source, "from_node", None) or ())
    return False


def _target_name(target) -> str:
    """'aten.conv2d.default' for an OpOverload, the qualified name for anything else."""
    if type(target).__name__ == "OpOverload":
        return str(target)
    return getattr(target, "__qualname__", str(target))


def _ssa_name(node_name: str) -> str | None:
    """FX names are valid MLIR value names once non-identifier characters are replaced."""
    cleaned = "".join(c if c.isalnum() or c in "_." else "_" for c in node_name)
    return cleaned if cleaned and not cleaned[0].isdigit() else None


def _loc(name: str) -> NameLoc:
    return NameLoc(StringAttr(name), NoneAttr())


def _precision_name(element_type: Attribute) -> str:
    return {Float32Type: "fp32", Float16Type: "fp16", BFloat16Type: "bf16",
            Float64Type: "fp64"}.get(type(element_type), "fp32")


def import_model(built: BuiltModel) -> ImportResult:
    """Exports and translates one model; raises ExportError with the exporter's reason."""
    start = time.perf_counter()
    program = export(built)
    exported = time.perf_counter()
    layers = fast_path_encoder_layers(built.module)
    translator = _Translator(program, layers, native_attention_modules(built.module, layers))
    module = translator.translate(built.name, built.batch)
    return ImportResult(module, translator.generic, exported - start, time.perf_counter() - start)


def write_module(module: ModuleOp, path: str) -> None:
    """Prints with locations (`loc("fx_node")`): they are how reports point at the model."""
    import sys

    from xdsl.printer import Printer

    if path == "-":
        Printer(stream=sys.stdout, print_debuginfo=True).print_op(module)
        sys.stdout.write("\n")
        return
    with open(path, "w") as stream:
        Printer(stream=stream, print_debuginfo=True).print_op(module)
        stream.write("\n")
