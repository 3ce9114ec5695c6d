"""The rule language of fusion patterns and precision policies, parsed with lark.

Fusion rules and precision policies are data: the defaults ship as `passes/rules/*.rules`
and users pass their own with `fuse{rules=path}` / `assign-precision{rules=path}`.

    # op classes: names for sets of graph ops
    class activation = relu | relu6 | gelu | silu | hardswish | hardsigmoid | sigmoid | tanh
    # fusion patterns: a producer -> consumer chain, regular-expression style
    pattern conv_bn_act: conv2d -> batch_norm? -> @activation?
    # precision rules: later rules win
    precision @normalization = fp32
    precision softmax = fp32
    precision name "layer4.*" = fp16

Op names are graph-dialect op names without the `graph.` prefix. A pattern compiles to a
Python regular expression over the chain's op names (`<conv2d><batch_norm>`), so matching
a chain of n ops costs O(n).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from lark import Lark, Transformer, UnexpectedInput, v_args
from lark.exceptions import VisitError

from targets.precision import PRECISIONS

GRAMMAR = r"""
    start: statement*
    ?statement: class_def | pattern_def | precision_def
    class_def: "class" NAME "=" NAME ("|" NAME)*
    pattern_def: "pattern" NAME ":" chain
    precision_def: "precision" selector "=" NAME
    chain: step ("->" step)*
    step: atom QUANT?
    ?atom: NAME -> op
         | CLASSREF -> classref
         | "(" chain ("|" chain)* ")" -> group
    selector: NAME -> sel_op
            | CLASSREF -> sel_class
            | "name" ESCAPED_STRING -> sel_name
    QUANT: "?" | "+" | "*"
    CLASSREF: "@" NAME
    NAME: /[a-z_][a-z0-9_]*/
    COMMENT: /#[^\n]*/
    %import common.ESCAPED_STRING
    %import common.WS
    %ignore WS
    %ignore COMMENT
"""

_PARSER = Lark(GRAMMAR, parser="lalr", propagate_positions=True)


class RulesError(ValueError):
    """A rules file is wrong; str() is `file:line:col: error: message`."""


@dataclass
class PrecisionRule:
    kind: str        # "op" | "class" | "name"
    target: str
    precision: str

    def matches(self, op_kind: str, op_classes: set[str], fx_name: str) -> bool:
        if self.kind == "op":
            return op_kind == self.target
        if self.kind == "class":
            return self.target in op_classes
        return fnmatchcase(fx_name, self.target)


@dataclass
class Rules:
    classes: dict[str, set[str]] = field(default_factory=dict)
    patterns: dict[str, re.Pattern] = field(default_factory=dict)
    pattern_text: dict[str, str] = field(default_factory=dict)
    precision: list[PrecisionRule] = field(default_factory=list)

    def classes_of(self, op_kind: str) -> set[str]:
        return {name for name, members in self.classes.items() if op_kind in members}

    def precision_for(self, op_kind: str, fx_name: str, default: str) -> str:
        chosen = default
        classes = self.classes_of(op_kind)
        for rule in self.precision:
            if rule.matches(op_kind, classes, fx_name):
                chosen = rule.precision
        return chosen

    def copy(self) -> Rules:
        return Rules(dict(self.classes), dict(self.patterns), dict(self.pattern_text), list(self.precision))


def token(op_kind: str) -> str:
    return f"<{op_kind}>"


class _Compile(Transformer):
    """Parse tree -> statements, checking names against the known ops and classes."""

    def __init__(self, filename: str, known_ops: set[str], base: Rules | None):
        super().__init__()
        self.filename, self.known_ops = filename, known_ops
        self.rules = base.copy() if base is not None else Rules()

    def _fail(self, tok, message: str):
        raise RulesError(f"{self.filename}:{tok.line}:{tok.column}: error: {message}")

    def _check_op(self, tok):
        if str(tok) not in self.known_ops:
            self._fail(tok, f"unknown op '{tok}'; valid ops: {', '.join(sorted(self.known_ops))}")
        return str(tok)

    def _check_class(self, tok):
        name = str(tok)[1:]
        if name not in self.rules.classes:
            self._fail(tok, f"unknown class '@{name}'; defined classes: {', '.join(sorted(self.rules.classes)) or 'none'}")
        return name

    def class_def(self, items):
        name, *members = items
        self.rules.classes[str(name)] = {self._check_op(m) for m in members}

    def op(self, items):
        return re.escape(token(self._check_op(items[0])))

    def classref(self, items):
        name = self._check_class(items[0])
        return "(?:" + "|".join(re.escape(token(m)) for m in sorted(self.rules.classes[name])) + ")"

    def group(self, items):
        return "(?:" + "|".join(items) + ")"

    def step(self, items):
        return f"(?:{items[0]}){items[1]}" if len(items) == 2 else items[0]

    def chain(self, items):
        return "".join(items)

    def pattern_def(self, items):
        name, regex = items
        self.rules.patterns[str(name)] = re.compile(regex)
        self.rules.pattern_text[str(name)] = regex

    @v_args(meta=True)
    def precision_def(self, meta, items):
        selector, prec = items
        if str(prec) not in PRECISIONS:
            self._fail(prec, f"unknown precision '{prec}'; valid precisions: {', '.join(PRECISIONS)}")
        self.rules.precision.append(PrecisionRule(selector[0], selector[1], str(prec)))

    def sel_op(self, items):
        return ("op", self._check_op(items[0]))

    def sel_class(self, items):
        return ("class", self._check_class(items[0]))

    def sel_name(self, items):
        return ("name", str(items[0])[1:-1])


def parse_rules(text: str, filename: str, known_ops: set[str], base: Rules | None = None) -> Rules:
    """Parses a rules text on top of `base`: its classes may be referenced, its patterns
    and precision rules are kept, and the text's own statements extend or override them."""
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as err:
        found = str(getattr(err, "token", None) or getattr(err, "char", "") or "end of input")
        raise RulesError(f"{filename}:{err.line}:{err.column}: error: unexpected '{found}'"
                         f"{_expected(err)}") from None
    compiler = _Compile(filename, known_ops, base)
    try:
        compiler.transform(tree)
    except VisitError as err:  # lark wraps what the callbacks raise
        raise err.orig_exc from None
    return compiler.rules


def _expected(err: UnexpectedInput) -> str:
    expected = sorted(getattr(err, "expected", None) or getattr(err, "allowed", None) or [])
    return f"; expected one of: {', '.join(expected)}" if expected else ""


RULES_DIR = Path(__file__).resolve().parent / "rules"


def load_rules(path: str | Path, known_ops: set[str], base: Rules | None = None) -> Rules:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise RulesError(f"{path}: error: cannot read rules file: {err.strerror}") from None
    return parse_rules(text, str(path), known_ops, base)
