"""The `{{ }}` expression sandbox of the front end: compiling, bounds, results, faults.

Expressions are evaluated by Jinja's immutable sandbox with a short list of
globals and filters, bounded sizes and no `{% %}` statements: a config
expression cannot reach Python internals, allocate without bound or loop
without end. A result becomes a config value only through `plain` (JSON-like,
64-bit integers, finite floats), and every fault an expression can cause is
explained as one diagnostic's message, code and hint.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from plxgen.errors import did_you_mean
from plxgen.compiler.load import INT64_MAX, INT64_MIN, MAX_STRING, show

# A rendered text, a string or list made by an operator inside an expression, at most.
MAX_TEXT = MAX_STRING
MAX_ITEMS = 10_000
MAX_POWER = 1_000  # the largest integer exponent of `**`
_ONE_EXPRESSION = re.compile(r"\s*\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}\s*\Z", re.S)
# Names the expression language gives a meaning of its own: a loop index,
# declaration or matrix axis by one of these names could never be read back.
RESERVED = frozenset(
    {"self", "loop", "super", "caller", "varargs", "kwargs", "true", "false", "none",
     "True", "False", "None", "and", "or", "not", "in", "is", "if", "else"}
)  # fmt: skip
_UNDEFINED = re.compile(r"'([^']*)' is undefined")
_SAFE_METHODS = {
    str: {
        "lower", "upper", "title", "capitalize", "strip", "lstrip", "rstrip", "split", "rsplit",
        "startswith", "endswith", "isdigit", "isalpha", "isalnum", "count", "find", "index",
    },
    list: {"index", "count"},
    dict: {"keys", "values", "items", "get"},
}  # fmt: skip
_SAFE_FILTERS = (
    "abs", "capitalize", "count", "d", "default", "dictsort", "first", "float", "int", "items",
    "join", "last", "length", "list", "lower", "map", "max", "min", "reject", "rejectattr",
    "replace", "reverse", "round", "select", "selectattr", "slice", "batch", "sort", "string",
    "sum", "title", "trim", "unique", "upper",
)  # fmt: skip


class _Limit(Exception):
    """An expression went past one of the sandbox's bounds."""


# Elements and characters of one value, counted recursively (a shared item as
# often as it appears: that is what the config gets). The outer list's
# MAX_ITEMS alone let `[a] * 10000` of a 10,000-item `a` through.
MAX_SIZE = 200_000
# Every value all of a document's expressions make, together.
MAX_DOCUMENT_SIZE = 2_000_000
_SIZES: dict[int, tuple[Any, int]] = {}  # id -> (the value, kept alive; its size)


def size(value: Any, limit: int = MAX_SIZE) -> int:
    """Elements and characters of a value, recursively; past limit, limit + 1 (work bounded).

    A container's size is remembered (the value kept alive, so its id is not
    reused): an expression that uses one big value many times measures it once.
    """
    if isinstance(value, str):
        return max(1, len(value))
    if not isinstance(value, (list, tuple, dict, range)):
        return 1
    if isinstance(value, range):
        return 1 + len(value)
    known = _SIZES.get(id(value))
    if known is not None and known[0] is value:
        return known[1]
    total = 1
    items: Iterable[Any] = (
        (x for kv in value.items() for x in kv) if isinstance(value, dict) else value
    )
    for item in items:
        total += size(item, limit - total)
        if total > limit:
            total = limit + 1
            break
    if total <= limit:  # an unfinished count depends on the limit: not remembered
        if len(_SIZES) >= 4096:
            _SIZES.clear()
        _SIZES[id(value)] = (value, total)
    return total


def check_size(value: Any) -> Any:
    """The value itself, or raise when it is past the sandbox's bounds."""
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise _Limit(f"makes a text longer than {MAX_TEXT} characters")
    if isinstance(value, (list, tuple)) and len(value) > MAX_ITEMS:
        raise _Limit(f"makes a list longer than {MAX_ITEMS} items")
    if isinstance(value, int) and value.bit_length() > 256:
        raise _Limit("makes an integer larger than 2**256")
    if isinstance(value, (list, tuple, dict)) and size(value) > MAX_SIZE:
        raise _Limit(
            f"makes a value of more than {MAX_SIZE} elements and characters (nested ones counted)"
        )
    return value


def _textual(value: Any) -> str:
    """str(value), refused before it is made when it would be longer than MAX_TEXT."""
    text = value if isinstance(value, str) else None
    if text is None:
        if size(value, MAX_TEXT) > MAX_TEXT:
            raise _Limit(f"makes a text longer than {MAX_TEXT} characters")
        text = str(value)
    check_size(text)
    return text


def _concat(items: Iterable[Any]) -> str:
    """`a ~ b`: the texts joined, bounded before they are made."""
    total = 0
    parts = []
    for item in items:
        text = _textual(item)
        total += len(text)
        if total > MAX_TEXT:
            raise _Limit(f"makes a text longer than {MAX_TEXT} characters")
        parts.append(text)
    return "".join(parts)


def _sum(values: Any, attribute: Any = None, start: Any = 0) -> Any:
    """The `sum` filter in linear time: lists and tuples are joined, not added pairwise."""
    if attribute is not None:
        raise _Limit("`sum(attribute=...)` is not available")
    if isinstance(start, str):
        raise _Limit("`sum` of texts is not available; use `join`")
    items = list(_bounded_iter(iter(values)))
    if isinstance(start, (list, tuple)):
        total = size(start)
        for item in items:
            if not isinstance(item, type(start)):
                raise TypeError(
                    f"can only concatenate {type(start).__name__} (not {type(item).__name__})"
                )
            total += size(item) - 1
            if total > MAX_SIZE:
                raise _Limit(
                    f"makes a value of more than {MAX_SIZE} elements and characters (nested ones counted)"
                )
        joined = [x for part in [start, *items] for x in part]
        return check_size(joined if isinstance(start, list) else tuple(joined))
    result = start
    for item in items:
        result = check_size(result + item)
    return result


def _join(values: Any, d: str = "", attribute: Any = None) -> str:
    """The `join` filter, bounded before the text is made."""
    if attribute is not None:
        raise _Limit("`join(attribute=...)` is not available")
    items = list(_bounded_iter(iter(values)))
    sep = _textual(d)
    if len(sep) * max(len(items) - 1, 0) > MAX_TEXT:
        raise _Limit(f"makes a text longer than {MAX_TEXT} characters")
    joined = sep.join(_concat([item]) for item in items)
    check_size(joined)
    return joined


def _replace(value: Any, old: Any, new: Any, count: Any = None) -> str:
    """The `replace` filter, bounded before the text is made."""
    text, old, new = _textual(value), _textual(old), _textual(new)
    found = text.count(old) if old else len(text) + 1
    if count is not None:
        found = min(found, max(int(count), 0)) if int(count) >= 0 else found
    if len(text) + found * (len(new) - len(old)) > MAX_TEXT:
        raise _Limit(f"makes a text longer than {MAX_TEXT} characters")
    return text.replace(old, new, -1 if count is None else int(count))


def _slice(value: Any, slices: Any, fill_with: Any = None) -> Any:
    """The `slice` filter: at most MAX_ITEMS slices."""
    import jinja2.filters

    if not isinstance(slices, int) or not 0 < slices <= MAX_ITEMS:
        raise _Limit(f"asks `slice` for more than {MAX_ITEMS} slices (or none)")
    return _bounded_iter(jinja2.filters.sync_do_slice(value, slices, fill_with))


def _bounded_range(*args: int) -> range:
    rng = range(*args)
    if len(rng) > MAX_ITEMS:
        raise _Limit(f"range() of more than {MAX_ITEMS} items")
    return rng


@lru_cache(maxsize=1)
def _environment() -> Any:
    """The sandboxed Jinja environment (built once per process)."""
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Sandbox(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset(["*", "**", "+", "%", "//", "/"])
        intercepted_unops = frozenset(["-", "+"])

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**" and isinstance(right, int) and abs(right) > MAX_POWER:
                if not (isinstance(left, (int, float)) and abs(left) in (0, 1)):
                    raise _Limit(f"an exponent larger than {MAX_POWER}")
            if operator == "*":
                for seq, times in ((left, right), (right, left)):
                    if isinstance(seq, (str, list, tuple)) and isinstance(times, int):
                        if len(seq) * max(times, 0) > (
                            MAX_TEXT if isinstance(seq, str) else MAX_ITEMS
                        ):
                            raise _Limit("makes a value too large")  # fmt: skip
                        if isinstance(seq, (list, tuple)) and (size(seq) - 1) * max(times, 0) > MAX_SIZE:  # fmt: skip
                            raise _Limit(
                                f"makes a value of more than {MAX_SIZE} elements and characters (nested ones counted)"
                            )
            if operator == "+" and isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):  # fmt: skip
                if size(left) + size(right) > MAX_SIZE:
                    raise _Limit(
                        f"makes a value of more than {MAX_SIZE} elements and characters (nested ones counted)"
                    )
            if operator == "%" and isinstance(left, str):
                raise _Limit("`%` formatting of text is not available")
            return check_size(super().call_binop(context, operator, left, right))

        def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
            if not super().is_safe_attribute(obj, attr, value):
                return False
            if callable(value):
                return any(
                    isinstance(obj, kind) and attr in names
                    for kind, names in _SAFE_METHODS.items()
                )
            return True

        def getattr(self, obj: Any, attribute: str) -> Any:
            # `cnn.values` is the declaration `values`, never the dict method.
            if isinstance(obj, dict) and attribute in obj:
                return obj[attribute]
            return super().getattr(obj, attribute)

        def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
            return check_size(super().call(__context, __obj, *args, **kwargs))

    from jinja2.compiler import CodeGenerator

    class _Generator(CodeGenerator):
        def visit_Concat(self, node: Any, frame: Any) -> None:
            # `a ~ b` is bounded before the text is made (Jinja's own str_join is not).
            self.write("environment.concat((")
            for arg in node.nodes:
                self.visit(arg, frame)
                self.write(", ")
            self.write("))")

    Sandbox.code_generator_class = _Generator
    Sandbox.concat = staticmethod(_concat)

    env = Sandbox(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        # No statements: `{% %}` blocks are refused before rendering (loops without end).
        block_start_string="{%",
        block_end_string="%}",
    )
    env.globals = {"range": _bounded_range, "true": True, "false": False, "none": None}
    env.filters = {name: _sized(env.filters[name]) for name in _SAFE_FILTERS}
    # Filters whose work or result Jinja does not bound: replaced by bounded ones.
    env.filters.update(
        sum=_sum, join=_join, replace=_replace, slice=_slice,
        string=_textual,
    )  # fmt: skip
    # Every `{{ }}` of a text is bounded before it becomes text.
    env.finalize = _textual
    return env


def _sized(function: Any) -> Any:
    """Wrap a filter so that what it makes stays within the sandbox's bounds."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        if isinstance(result, (str, list, tuple)):
            return check_size(result)
        if hasattr(
            result, "__next__"
        ):  # a lazy filter (map, select): bound it on the way
            return _bounded_iter(result)
        return result

    for attr in ("jinja_pass_arg",):
        if hasattr(function, attr):
            setattr(wrapper, attr, getattr(function, attr))
    return wrapper


def _bounded_iter(items: Iterator[Any]) -> Iterator[Any]:
    for count, item in enumerate(items):
        if count >= MAX_ITEMS:
            raise _Limit(f"makes more than {MAX_ITEMS} items")
        yield item


@lru_cache(maxsize=4096)
def compiled(source: str, expression: bool) -> Any:
    """The sandbox's compiled expression (`expression`) or template of a source text."""
    env = _environment()
    if expression:
        return env.compile_expression(source, undefined_to_none=False)
    return env.from_string(source)


def single_expression(source: str) -> str | None:
    """The expression of a text that is exactly one `{{ expression }}`, else None."""
    one = _ONE_EXPRESSION.match(source)
    return one.group("expr") if one else None


def plain(value: Any, depth: int = 0) -> Any:
    """A JSON-like copy of an expression's result, or raise TypeError."""
    if depth > 32:
        raise TypeError("nests too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise TypeError("an integer that does not fit in 64 bits")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"{value} is not a finite number")
        return value
    if isinstance(value, (list, tuple, range)):
        return [plain(v, depth + 1) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError("a mapping key must be text")
            out[k] = plain(v, depth + 1)
        return out
    raise TypeError(f"a {type(value).__name__} is not a config value")


def defined(value: Any) -> Any:
    """Raise jinja2's UndefinedError for an undefined result (`{{ nope }}`)."""
    import jinja2

    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()
    return value


def literal(text: str) -> Any:
    """Rendered text read as a Python literal where it is one (`"64"` -> 64), else the text."""
    stripped = text.strip()
    if not stripped or len(stripped) > MAX_TEXT:
        return text
    try:
        value = ast.literal_eval(stripped)
        return plain(value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def explain(
    exc: Exception, source: str, names: Iterable[str]
) -> tuple[str, str, str | None]:
    """The message, code and hint of an expression's fault (`names` are the visible ones)."""
    import jinja2
    from jinja2.exceptions import SecurityError

    hint = None
    if isinstance(exc, jinja2.TemplateSyntaxError):
        message = f"invalid expression in {show(source)}: {exc.message}"
        code = "template-syntax"
        hint = "write one complete Jinja expression between `{{` and `}}`, e.g. `{{ units * 2 }}`"
    elif isinstance(exc, jinja2.UndefinedError):
        found = _UNDEFINED.search(str(exc))
        name = found.group(1) if found else None
        message = (
            f"{show(source)}: {name!r} is not defined"
            if name
            else f"{show(source)}: {exc}"
        )
        code = "undefined"
        visible = sorted(k for k in names if not k.startswith("_"))
        hint = did_you_mean(name, visible) if name else None
        if hint is None:
            hint = (
                "names come from `declarations`, `matrix` axes, a `for` loop's index and graph `tags`"
                + (f"; defined here: {', '.join(visible[:12])}" if visible else "")
            )
    elif isinstance(exc, SecurityError):
        message = f"{show(source)}: not allowed in a config expression ({_short(exc)})"
        code = "template-unsafe"
        hint = (
            "an expression computes a value from declarations, matrix axes and loop "
            "indexes: attributes starting with `_` and Python's internals are not available"
        )
    elif isinstance(exc, _Limit):
        message = f"{show(source)}: the expression {exc}"
        code = "template-limit"
        hint = (
            f"compute a smaller value: texts hold {MAX_TEXT} characters, lists {MAX_ITEMS} "
            f"items, a value {MAX_SIZE} elements and characters, a file's expressions "
            f"{MAX_DOCUMENT_SIZE} in all"
        )
    elif isinstance(exc, TypeError) and "config value" in str(exc):
        message = f"{show(source)}: the expression gives {exc.args[0][2:]}"
        code = "template-type"
        hint = (
            "an expression must give what YAML could hold: a number, a text, true/false, "
            "null, or a list or mapping of those"
        )
    else:
        message = f"{show(source)}: the expression failed: {type(exc).__name__}: {_short(exc)}"
        code = "template-error"
        hint = "Python raised this evaluating it: check the types and values of its operands"
    return message, code, hint


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 120 else text[:117] + "..."
