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


def check_size(value: Any) -> Any:
    """The value itself, or raise when it is past the sandbox's bounds."""
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise _Limit(f"makes a text longer than {MAX_TEXT} characters")
    if isinstance(value, (list, tuple)) and len(value) > MAX_ITEMS:
        raise _Limit(f"makes a list longer than {MAX_ITEMS} items")
    if isinstance(value, int) and value.bit_length() > 256:
        raise _Limit("makes an integer larger than 2**256")
    return value


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
    elif isinstance(exc, _Limit):
        message = f"{show(source)}: the expression {exc}"
        code = "template-limit"
    elif isinstance(exc, TypeError) and "config value" in str(exc):
        message = f"{show(source)}: the expression gives {exc.args[0][2:]}"
        code = "template-type"
    else:
        message = f"{show(source)}: the expression failed: {type(exc).__name__}: {_short(exc)}"
        code = "template-error"
    return message, code, hint


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 120 else text[:117] + "..."
