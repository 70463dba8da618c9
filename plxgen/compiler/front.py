"""The front end, between load and validate: `declarations`, `{{ }}` expressions,
the `for` / `if` operators, graph `tags` and the legacy `model_type` spelling.

It turns one loaded Document (plus the values of one matrix combination) into
the plain Document that validation sees, and keeps every node's source
position: a diagnostic about a rendered value, or about a layer made by a
`for`, points at the text the user wrote.

Expressions are evaluated in the sandbox of `expressions.py`; this module
decides where they may appear and what their results become.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from plxgen.errors import ConfigError, Diagnostic, did_you_mean
from plxgen.compiler.expressions import (
    MAX_DOCUMENT_SIZE,
    MAX_ITEMS,
    RESERVED,
    _Limit,
    size,
    MAX_POWER,
    MAX_TEXT,
    check_size,
    compiled,
    defined,
    explain,
    literal,
    plain,
    single_expression,
)
from plxgen.compiler.load import MAX_NODES, Document, Path, format_path, show
from plxgen.schema.registry import MODEL_KINDS, OPERATOR_SECTIONS

# Public names of this module from before the sandbox moved out; kept importable.
__all__ = [
    "MAX_ITEMS", "MAX_POWER", "MAX_TEXT", "has_templating", "plain", "render_document",
]  # fmt: skip

# Top-level sections whose lists may hold the `for` / `if` operators.
_OPERATORS = ("for", "if")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass
class _Scope:
    """Names visible to expressions: matrix values, declarations, `index`, graph `tags`."""

    names: dict[str, Any]

    def child(self, extra: dict[str, Any]) -> _Scope:
        # A dict, never keywords: any name (`self`, `source`) may be a user's.
        return _Scope({**self.names, **extra})


@dataclass
class _Front:
    doc: Document
    errors: list[Diagnostic] = field(default_factory=list)
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)
    overrides: dict[Path, str] = field(default_factory=dict)
    # A rendered path that differs from its source path (operators, model_type) -> the source's.
    sources: dict[str, str] = field(default_factory=dict)
    nodes: int = 0
    produced: int = 0  # elements and characters that expressions gave, in all

    # ------------------------------------------------------------ positions
    def record(self, new: Path, old: Path) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooMany(old)
        position = self.doc.values.get(old)
        if position is None:
            probe = old
            while probe and probe not in self.doc.values:
                probe = probe[:-1]
            position = self.doc.values.get(probe, (1, 1))
        self.values.setdefault(new, position)
        if new != old:
            self.sources.setdefault(format_path(new), format_path(old))
        if old in self.doc.overrides:
            self.overrides.setdefault(new, self.doc.overrides[old])

    def record_key(self, new: Path, old: Path) -> None:
        if new != old:
            self.sources.setdefault(format_path(new), format_path(old))
        if old in self.doc.keys:
            self.keys.setdefault(new, self.doc.keys[old])

    def fail(
        self,
        old: Path,
        message: str,
        code: str,
        hint: str | None = None,
        *,
        key: bool = False,
    ) -> None:
        file, line, col = self.doc.where(old, key=key)
        self.errors.append(
            Diagnostic(file, line, col, format_path(old), message, code, hint)
        )

    # ------------------------------------------------------------ expressions
    def text(self, source: str, old: Path, scope: _Scope, *, key: bool = False) -> Any:
        """Render one string: its typed value, or the string itself without `{{ }}`.

        A string that is exactly one `{{ expression }}` keeps the expression's
        type (a number stays a number, a list a list); text mixed with
        expressions is rendered as text and then read as a Python literal
        where it is one, as the 2017 tool did (`"{{ a }}.5"` -> 1.5).
        """
        if "{{" not in source and "{%" not in source:
            return source
        if "{%" in source:
            self.fail(
                old, "`{% %}` statements are not supported in a config value", "template",
                "write an {{ expression }}, or use the `for` / `if` operators in a layer list",
                key=key,
            )  # fmt: skip
            return None
        one = single_expression(source)
        try:
            if one is not None and not key:
                result = check_size(defined(compiled(one, True)(scope.names)))
                self.produced += size(result)
                if self.produced > MAX_DOCUMENT_SIZE:
                    raise _Limit(
                        f"gives, with the document's other expressions, more than {MAX_DOCUMENT_SIZE} "
                        "elements and characters in all"
                    )
                return plain(result)
            rendered = compiled(source, False).render(scope.names)
            check_size(rendered)
        except (
            Exception
        ) as exc:  # noqa: BLE001 - every expression fault is the config's
            self._expression_error(exc, source, old, scope, key)
            return None
        if key:
            return rendered
        return literal(rendered)

    def _expression_error(
        self, exc: Exception, source: str, old: Path, scope: _Scope, key: bool
    ) -> None:
        message, code, hint = explain(exc, source, scope.names)
        self.fail(old, message, code, hint, key=key)

    # ------------------------------------------------------------ the walk
    def node(self, value: Any, old: Path, new: Path, scope: _Scope, ops: bool) -> Any:
        """Render one value and everything below it, recording positions."""
        self.record(new, old)
        if isinstance(value, str):
            return self.text(value, old, scope)
        if isinstance(value, list):
            if ops:
                return self.items(value, old, new, scope)
            return [
                self.node(v, old + (i,), new + (i,), scope, ops)
                for i, v in enumerate(value)
            ]
        if isinstance(value, dict):
            if new == ("model",) and "model_type" in value:
                return self.legacy_model(value, scope)
            out: dict[str, Any] = {}
            for k, v in value.items():
                name = self.key(k, old + (k,), scope)
                if name is None:
                    continue
                if name in out:
                    self.fail(
                        old + (k,), f"the key renders to {show(name)}, which is already defined here",
                        "duplicate-key", "make the rendered keys differ, e.g. with a loop index in them", key=True,
                    )  # fmt: skip
                    continue
                self.record_key(new + (name,), old + (k,))
                out[name] = self.node(v, old + (k,), new + (name,), scope, ops)
            return out
        return value

    def key(self, k: str, old: Path, scope: _Scope) -> str | None:
        if "{{" not in k and "{%" not in k:
            return k
        rendered = self.text(k, old, scope, key=True)
        if rendered is None:
            return None
        if not isinstance(rendered, str) or not rendered.strip():
            self.fail(
                old,
                f"the key {show(k)} renders to an empty name",
                "template-key",
                "the expression of a key must give a non-empty text",
                key=True,
            )
            return None
        return rendered.strip()

    def items(self, value: list[Any], old: Path, new: Path, scope: _Scope) -> list[Any]:
        """A list that may hold operators; a graph's `layers` also collect `tags`."""
        out: list[Any] = []
        graph = new[-1:] == ("layers",)
        tags: dict[str, list[str]] = {}
        counters: dict[str, int] = {}
        if graph:
            scope = scope.child({"tags": tags})
        for i, item in enumerate(value):
            for raw, raw_old, raw_scope in self.expand(item, old + (i,), scope):
                index = len(out)
                if index >= MAX_ITEMS:
                    self.fail(
                        old,
                        f"the operators make more than {MAX_ITEMS} items",
                        "too-large",
                        f"make at most {MAX_ITEMS} items: a smaller `len`, or fewer nested loops",
                    )
                    return out
                rendered = self.node(raw, raw_old, new + (index,), raw_scope, True)
                if graph:
                    _collect_tags(rendered, tags, counters)
                out.append(rendered)
        return out

    def expand(
        self, item: Any, old: Path, scope: _Scope
    ) -> Iterator[tuple[Any, Path, _Scope]]:
        """An item of a list, or the items an operator makes, with their scopes."""
        op = _operator(item)
        if op is None:
            yield item, old, scope
            return
        spec = item[op]
        opath = old + (op,)
        allowed = ("len", "do", "index") if op == "for" else ("cond", "do", "else_do")
        bad = [k for k in spec if k not in allowed]
        for k in bad:
            self.fail(
                opath + (k,), f"unknown key {show(k)} of the `{op}` operator", "unknown-key",
                "expected one of: " + ", ".join(allowed), key=True,
            )  # fmt: skip
        required = ("len", "do") if op == "for" else ("cond", "do")
        missing = [k for k in required if k not in spec]
        for k in missing:
            self.fail(
                opath, f"the `{op}` operator needs {k!r}", "missing-key",
                "e.g. `for: {len: 3, do: [...]}`" if op == "for" else "e.g. `if: {cond: \"{{ deep }}\", do: [...]}`",
                key=True,
            )  # fmt: skip
        if bad or missing:
            return
        if op == "for":
            yield from self.loop(spec, opath, scope)
        else:
            yield from self.branch(spec, opath, scope)

    def loop(
        self, spec: dict[str, Any], opath: Path, scope: _Scope
    ) -> Iterator[tuple[Any, Path, _Scope]]:
        length = spec["len"]
        if isinstance(length, str):
            length = self.text(length, opath + ("len",), scope)
            if length is None:
                return
        if isinstance(length, bool) or not isinstance(length, int) or length < 0:
            self.fail(
                opath + ("len",), f"`len` must be a whole number of at least 0, got {show(length)}",
                "type", "write the number of times to repeat `do`, e.g. `len: 3` (or an expression that gives one)",
            )  # fmt: skip
            return
        if length > MAX_ITEMS:
            self.fail(
                opath + ("len",), f"`len` is larger than {MAX_ITEMS}", "too-large",
                f"repeat at most {MAX_ITEMS} times",
            )
            return
        index = spec.get("index", "index")
        if not isinstance(index, str) or not _NAME.match(index):
            self.fail(
                opath + ("index",), f"`index` must be a name, got {show(index)}", "bad-name",
                "write a name such as `i`; the loop's position is `{{ i }}`",
            )  # fmt: skip
            return
        if index in RESERVED:
            self.fail(
                opath + ("index",), f"`index` {show(index)} is a name the expression language reserves",
                "bad-name", "write another name such as `i`; the loop's position is `{{ i }}`",
            )  # fmt: skip
            return
        do = spec["do"]
        for i in range(length):
            inner = scope.child({index: i})
            if isinstance(do, list):
                for j, sub in enumerate(do):
                    yield from self.expand(sub, opath + ("do", j), inner)
            else:
                yield from self.expand(do, opath + ("do",), inner)

    def branch(
        self, spec: dict[str, Any], opath: Path, scope: _Scope
    ) -> Iterator[tuple[Any, Path, _Scope]]:
        cond = self.condition(spec["cond"], opath + ("cond",), scope)
        if cond is None:
            return
        chosen = "do" if cond else "else_do"
        body = spec.get(chosen)
        if body is None:
            return
        if isinstance(body, list):
            for j, sub in enumerate(body):
                yield from self.expand(sub, opath + (chosen, j), scope)
        else:
            yield from self.expand(body, opath + (chosen,), scope)

    def condition(self, cond: Any, old: Path, scope: _Scope) -> bool | None:
        """`cond` is an expression (`dropout > 0`), or text with `{{ }}` that renders to one."""
        if isinstance(cond, str):
            rendered = self.text(cond, old, scope)
            if rendered is None:
                return None
            cond = rendered
            if isinstance(cond, str):
                try:
                    cond = plain(check_size(defined(compiled(cond, True)(scope.names))))
                except (
                    Exception
                ) as exc:  # noqa: BLE001 - every expression fault is the config's
                    self._expression_error(exc, cond, old, scope, False)
                    return None
        if isinstance(cond, (bool, int, float)) or cond is None:
            return bool(cond)
        self.fail(
            old, f"`cond` must be true or false, got {show(cond)}", "type",
            "write a comparison, e.g. `cond: \"{{ dropout }} > 0\"`",
        )  # fmt: skip
        return None

    def legacy_model(self, value: dict[str, Any], scope: _Scope) -> dict[str, Any]:
        """`model: {model_type: classifier, loss: ...}` (older files) -> `model: {classifier: {loss: ...}}`."""
        old: Path = ("model",)
        kind = self.text(value["model_type"], old + ("model_type",), scope)
        if kind not in MODEL_KINDS:
            if kind is not None:
                self.fail(
                    old + ("model_type",), f"unknown model type {show(kind)}", "unknown-name",
                    did_you_mean(str(kind), MODEL_KINDS) or "expected one of: " + ", ".join(MODEL_KINDS),
                )  # fmt: skip
            return {}
        clash = [k for k in value if k in MODEL_KINDS]
        if clash:
            self.fail(
                old + (clash[0],), f"`model_type: {kind}` and `{clash[0]}:` both name the model kind",
                "duplicate-key", "keep one: `model: {classifier: {...}}`", key=True,
            )  # fmt: skip
            return {}
        new: Path = ("model", kind)
        self.values.setdefault(new, self.doc.values.get(old + ("model_type",), (1, 1)))
        self.keys.setdefault(new, self.doc.keys.get(old + ("model_type",), (1, 1)))
        fields: dict[str, Any] = {}
        for k, v in value.items():
            if k == "model_type":
                continue
            name = self.key(k, old + (k,), scope)
            if name is None:
                continue
            self.record_key(new + (name,), old + (k,))
            fields[name] = self.node(v, old + (k,), new + (name,), scope, True)
        return {kind: fields}


class _TooMany(Exception):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.path = path


def _operator(item: Any) -> str | None:
    if isinstance(item, dict) and len(item) == 1:
        ((key, value),) = item.items()
        if key in _OPERATORS and isinstance(value, dict):
            return str(key)
    return None


def _collect_tags(
    layer: Any, tags: dict[str, list[str]], counters: dict[str, int]
) -> None:
    """Record a rendered layer's tags under its name (named `Type_N` as in 2017 when unnamed)."""
    if not (isinstance(layer, dict) and len(layer) == 1):
        return
    ((kind, args),) = layer.items()
    if args is None:
        args = {}
    if not isinstance(args, dict):
        return
    name = args.get("name")
    if name is None:
        counters[kind] = counters.get(kind, 0) + 1
    layer_tags = args.get("tags")
    if layer_tags is None:
        return
    if name is None:
        name = f"{kind}_{counters[kind]}"
        args["name"] = name
        layer[kind] = args
    for tag in layer_tags if isinstance(layer_tags, list) else [layer_tags]:
        if isinstance(tag, str) and isinstance(name, str):
            tags.setdefault(tag, []).append(name)


def has_templating(data: Any) -> bool:
    """Whether a loaded file uses anything this stage changes (most files do not)."""
    if not isinstance(data, dict):
        return False
    if "declarations" in data or "matrix" in data:
        return True
    model = data.get("model")
    if isinstance(model, dict) and "model_type" in model:
        return True
    return _any_template(data, 0)


def _any_template(value: Any, depth: int) -> bool:
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, list):
        return any(
            _operator(v) is not None or _any_template(v, depth + 1) for v in value
        )
    if isinstance(value, dict):
        return any(
            _any_template(k, depth + 1) or _any_template(v, depth + 1)
            for k, v in value.items()
        )
    return False


def render_document(
    doc: Document, matrix_values: dict[str, Any] | None = None
) -> tuple[Document, dict[str, str]]:
    """Apply declarations, expressions, operators and the legacy spelling to a document.

    `matrix_values` are the values of one matrix combination (`{{ lr }}`).
    The result has no `declarations` or `matrix` section: everything they
    meant is in place. With it comes a map from a rendered path (as
    diagnostics show it) to its source path, for the paths that moved (a
    layer made by `for`), so that diagnostics name what the user wrote.
    Raises ConfigError with every problem found.
    """
    data = doc.data
    if not isinstance(data, dict) or not (matrix_values or has_templating(data)):
        return doc, {}
    front = _Front(doc)
    names: dict[str, Any] = dict(matrix_values or {})
    try:
        declared = data.get("declarations")
        if declared is not None:
            names.update(_declarations(front, declared, names))
        scope = _Scope(names)
        out: dict[str, Any] = {}
        front.record((), ())
        for section, value in data.items():
            if section in ("declarations", "matrix"):
                continue
            path: Path = (section,)
            front.record_key(path, path)
            if section == "version":
                front.record(path, path)
                out[section] = value
                continue
            out[section] = front.node(
                value, path, path, scope, section in OPERATOR_SECTIONS
            )
    except _TooMany as exc:
        front.fail(
            exc.path, f"the operators make more than {MAX_NODES} values", "too-large",
            f"make at most {MAX_NODES} values in all: smaller loops, or fewer nested ones",
        )
    if front.errors:
        raise ConfigError(front.errors)
    rendered = Document(doc.file, out, front.values, front.keys, front.overrides)
    return rendered, front.sources


def _declarations(
    front: _Front, declared: Any, matrix: dict[str, Any]
) -> dict[str, Any]:
    path: Path = ("declarations",)
    if not isinstance(declared, dict):
        front.fail(path, "`declarations` must be a mapping of names to values", "type",
                   "e.g. `declarations: {units: 64, rate: 0.01}`")  # fmt: skip
        return {}
    # In order: a declaration sees the ones above it rendered, the ones below as written.
    names: dict[str, Any] = {**declared, **matrix}
    out: dict[str, Any] = {}
    for name, value in declared.items():
        if not _NAME.match(name):
            front.fail(
                path + (name,), f"{show(name)} cannot be used in an expression", "bad-name",
                "a declaration's name is letters, digits and `_`, not starting with a digit",
                key=True,
            )  # fmt: skip
            continue
        if name in RESERVED:
            front.fail(
                path + (name,), f"{show(name)} is a name the expression language reserves",
                "bad-name", "rename the declaration", key=True,
            )  # fmt: skip
            continue
        if name in matrix:
            front.fail(
                path + (name,), f"{name!r} is both a declaration and a matrix axis", "duplicate-key",
                "rename one of the two", key=True,
            )  # fmt: skip
            continue
        out[name] = front.node(
            value, path + (name,), path + (name,), _Scope(dict(names)), False
        )
        names[name] = out[name]
    return out
