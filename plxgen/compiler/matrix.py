"""Matrix sweeps: `matrix` axes -> combinations, their script names and the index file.

Axes follow the 2017 format: `values: [...]`, or `range` / `linspace` /
`logspace` / `geomspace` written as `"a:b:n"`, `[a, b, n]` or
`{start: a, stop: b, step|num: n}` (logspace takes an optional fourth,
`base`). Numbers are made here in pure Python with numpy's semantics
(`range` excludes `stop`; the spaces include it; `logspace` spaces the
exponents), rounded to 12 significant digits so that floating-point noise
(0.30000000000000004) neither reaches a script nor a file name. An axis
whose bounds are integers keeps integer values where every value is whole.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from plxgen import __version__
from plxgen.errors import ConfigError, Diagnostic, did_you_mean
from plxgen.compiler.expressions import RESERVED
from plxgen.compiler.load import Document, Path, show

MAX_COMBINATIONS = 256
# The most `--max-combinations` may raise the cap to: every combination is held in memory.
MAX_CAP = 100_000
INDEX_FILE = "matrix.json"
_KINDS = ("values", "range", "linspace", "logspace", "geomspace")
_FIELDS = {
    "range": ("start", "stop", "step"),
    "linspace": ("start", "stop", "num"),
    "logspace": ("start", "stop", "num", "base"),
    "geomspace": ("start", "stop", "num"),
}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_UNSAFE = re.compile(r"[^A-Za-z0-9.+-]+")
MAX_NAME = 120  # characters of a script name made from values; longer ones use indexes


@dataclass(frozen=True)
class Axis:
    """One hyperparameter axis: its name (`{{ name }}` in the file) and values."""

    name: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Combination:
    """One experiment of the sweep: its script name (without `.py`) and axis values."""

    name: str
    suffix: str  # the name without the config's stem: `lr_0.01-batch_size_64`
    values: dict[str, Any]


def axes(doc: Document, cap: int = MAX_COMBINATIONS) -> list[Axis] | None:
    """The matrix of a document (None without one); raises ConfigError when it is wrong."""
    data = doc.data
    if not isinstance(data, dict) or "matrix" not in data:
        return None
    errors: list[Diagnostic] = []

    def fail(
        path: Path,
        message: str,
        code: str,
        hint: str | None = None,
        *,
        key: bool = False,
    ) -> None:
        errors.append(doc.diagnostic(path, message, code, hint, key=key))

    matrix = data["matrix"]
    root: Path = ("matrix",)
    if not isinstance(matrix, dict) or not matrix:
        fail(root, "`matrix` must map axis names to `values`, `range`, `linspace`, `logspace` or `geomspace`",
             "type", "e.g. `matrix: {lr: {values: [0.01, 0.1]}}`")  # fmt: skip
        raise ConfigError(errors)
    result: list[Axis] = []
    for name, spec in matrix.items():
        path = root + (name,)
        if not _NAME.match(name):
            fail(path, f"{show(name)} cannot be used as `{{{{ {name} }}}}`", "bad-name",
                 "an axis name is letters, digits and `_`, not starting with a digit", key=True)  # fmt: skip
            continue
        if name in RESERVED:
            fail(path, f"{show(name)} is a name the expression language reserves", "bad-name",
                 "rename the axis", key=True)  # fmt: skip
            continue
        if not isinstance(spec, dict) or len(spec) != 1:
            fail(path, "an axis is exactly one of: " + ", ".join(_KINDS), "one-name",
                 f"e.g. `{name}: {{values: [1, 2, 3]}}`")  # fmt: skip
            continue
        ((kind, value),) = spec.items()
        if kind not in _KINDS:
            fail(path + (kind,), f"unknown axis kind {show(kind)}", "unknown-name",
                 did_you_mean(kind, _KINDS) or "expected one of: " + ", ".join(_KINDS),
                 key=True)  # fmt: skip
            continue
        values = _values(kind, value, path + (kind,), fail, cap)
        if values is not None:
            result.append(Axis(name, tuple(values)))
    if not errors:
        for axis in result:
            if not _used(data, axis.name):
                fail(root + (axis.name,), f"the axis {axis.name!r} is never used", "unused-axis",
                     f"use it where its value goes, e.g. `learning_rate: \"{{{{ {axis.name} }}}}\"`; "
                     "unused, it would compile identical scripts", key=True)  # fmt: skip
    if not errors:
        total = math.prod(len(a.values) for a in result)
        if total > cap:
            sizes = " x ".join(f"{len(a.values)} ({a.name})" for a in result)
            fail(root, f"the matrix has {total} combinations ({sizes}), more than the {cap} allowed",
                 "too-many-combinations",
                 "use fewer values, or raise the cap with --max-combinations N", key=True)  # fmt: skip
    if errors:
        raise ConfigError(errors)
    return result


def _used(data: dict[str, Any], name: str) -> bool:
    """Whether an expression outside `matrix` mentions the name (a cheap, textual test)."""
    word = re.compile(rf"\b{re.escape(name)}\b")

    def walk(value: Any) -> bool:
        if isinstance(value, str):
            return ("{{" in value or "{%" in value) and bool(word.search(value))
        if isinstance(value, list):
            return any(walk(v) for v in value)
        if isinstance(value, dict):
            return any(walk(k) or walk(v) for k, v in value.items())
        return False

    return any(walk(v) for k, v in data.items() if k != "matrix") or any(
        _cond_mentions(v, word) for k, v in data.items() if k != "matrix"
    )


def _cond_mentions(value: Any, word: re.Pattern[str]) -> bool:
    """`if` conditions are expressions without braces: `cond: lr > 0.01`."""
    if isinstance(value, list):
        return any(_cond_mentions(v, word) for v in value)
    if isinstance(value, dict):
        cond = value.get("if")
        if isinstance(cond, dict) and isinstance(cond.get("cond"), str):
            if word.search(cond["cond"]):
                return True
        return any(_cond_mentions(v, word) for v in value.values())
    return False


def _values(kind: str, value: Any, path: Path, fail: Any, cap: int) -> list[Any] | None:
    if kind == "values":
        if not isinstance(value, list) or not value:
            fail(
                path,
                "`values` must be a non-empty list",
                "type",
                "e.g. `values: [0.01, 0.1]`",
            )
            return None
        seen: dict[str, int] = {}
        for i, item in enumerate(value):
            key = json.dumps(item, sort_keys=True)
            if key in seen:
                fail(path + (i,), f"{show(item)} is already value [{seen[key]}] of this axis", "duplicate-value",
                     "each combination would be compiled twice; remove one")  # fmt: skip
                return None
            seen[key] = i
        return list(value)
    fields = _FIELDS[kind]
    numbers = _numbers(kind, value, path, fail)
    if numbers is None:
        return None
    spec = dict(zip(fields, numbers))
    start, stop = spec["start"], spec["stop"]
    if not start < stop:
        fail(
            path,
            f"`stop` ({show(stop)}) must be larger than `start` ({show(start)})",
            "bad-range",
            (
                "swap them: `start` is the smaller bound"
                if stop < start
                else "make `stop` larger than `start`"
            ),
        )
        return None
    if kind == "range":
        step = spec["step"]
        if step <= 0:
            fail(path, f"`step` must be positive, got {show(step)}", "bad-range",
                 "write the distance between values, above 0 (`start` is the smaller bound)")  # fmt: skip
            return None
        ratio = (stop - start) / step
        if not math.isfinite(ratio):
            fail(path, f"this axis has more values than the {cap} combinations allowed",
                 "too-many-combinations",
                 "use a larger `step`, or raise the cap with --max-combinations N")  # fmt: skip
            return None
        count = math.ceil(ratio)
    else:
        num = spec["num"]
        if isinstance(num, float) and num.is_integer():
            num = int(num)
        if not isinstance(num, int) or num < 1:
            fail(
                path,
                f"`num` must be a whole number of at least 1, got {show(num)}",
                "bad-range",
                "write how many values the axis takes, e.g. 5",
            )
            return None
        count = num
    if count > cap:
        fail(path, f"this axis has {count} values, more than the {cap} combinations allowed", "too-many-combinations",
             "use fewer values, or raise the cap with --max-combinations N")  # fmt: skip
        return None
    if kind == "geomspace" and start * stop <= 0:
        fail(
            path,
            "`geomspace` bounds must be non-zero and of the same sign",
            "bad-range",
            "e.g. 0.001:0.1:3; for bounds around 0, use linspace",
        )
        return None
    if kind == "logspace" and spec.get("base", 10) <= 0:
        fail(path, f"`base` must be positive, got {show(spec['base'])}", "bad-range",
             "write a base above 0, e.g. 10 (the default) or 2")  # fmt: skip
        return None
    try:
        values = _generate(kind, spec, count)
    except (OverflowError, ValueError, ZeroDivisionError):
        values = None
    if values is None or not all(_finite(v) for v in values):
        fail(path, f"this `{kind}` makes a value too large for a number (or not a number)",
             "bad-range", "use smaller bounds" + (" or a smaller `base`" if kind == "logspace" else ""))  # fmt: skip
        return None
    return values


def _finite(value: Any) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


def _numbers(kind: str, value: Any, path: Path, fail: Any) -> list[int | float] | None:
    fields = _FIELDS[kind]
    required = 3
    form = f"{':'.join(fields[:required])} as `\"a:b:n\"`, a list or a mapping"
    if isinstance(value, str):
        parts: list[Any] = value.split(":")
    elif isinstance(value, list):
        parts = list(value)
    elif isinstance(value, dict):
        unknown = [k for k in value if k not in fields]
        if unknown:
            fail(path + (unknown[0],), f"unknown key {show(unknown[0])}", "unknown-key",
                 "expected: " + ", ".join(fields), key=True)  # fmt: skip
            return None
        missing = [k for k in fields[:required] if k not in value]
        if missing:
            fail(path, f"missing required key {missing[0]!r}", "missing-key",
                 f"add `{missing[0]}:`; the keys are " + ", ".join(fields))  # fmt: skip
            return None
        parts = [value[k] for k in fields if k in value]
    else:
        hint = None
        if isinstance(value, int) and not isinstance(value, bool) and value >= 60:
            hint = 'YAML reads an unquoted a:b:n of small numbers as one base-60 number; quote it: "1:5:5"'
        fail(path, f"expected {form}, got {show(value)}", "type", hint)
        return None
    if not required <= len(parts) <= len(fields):
        fail(path, f"expected {' or '.join(str(n) for n in sorted({required, len(fields)}))} numbers "
             f"({':'.join(fields)}), got {len(parts)}", "bad-range", f"write {form}")  # fmt: skip
        return None
    numbers: list[int | float] = []
    for name, part in zip(fields, parts):
        number = _number(part)
        if number is None:
            fail(path, f"`{name}` must be a number, got {show(part)}", "type",
                 "write a number, e.g. 0.001 or 1e-3")  # fmt: skip
            return None
        numbers.append(number)
    return numbers


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _round(value: float) -> float:
    return float(f"{value:.12g}")


def _generate(kind: str, spec: dict[str, Any], count: int) -> list[Any]:
    start, stop = spec["start"], spec["stop"]
    if kind == "range":
        step = spec["step"]
        if all(isinstance(v, int) for v in (start, stop, step)):
            return list(range(start, stop, step))
        return [_round(start + i * step) for i in range(count)]
    if kind == "linspace":
        points = _linspace(start, stop, count)
    elif kind == "logspace":
        base = spec.get("base", 10)
        points = [base**p for p in _linspace(start, stop, count)]
    else:  # geomspace
        sign = -1.0 if start < 0 else 1.0
        logs = _linspace(math.log(abs(start)), math.log(abs(stop)), count)
        points = [sign * math.exp(p) for p in logs]
        points[0], points[-1] = float(start), float(stop)
    values = [_round(p) for p in points]
    bounds = [start, stop] + ([spec["base"]] if "base" in spec else [])
    if all(isinstance(b, int) for b in bounds) and all(v.is_integer() for v in values):
        return [int(v) for v in values]
    return values


def _linspace(start: float, stop: float, count: int) -> list[float]:
    if count == 1:
        return [float(start)]
    step = (stop - start) / (count - 1)
    points = [start + i * step for i in range(count)]
    points[-1] = stop
    return [float(p) for p in points]


def combinations(stem: str, matrix: list[Axis]) -> list[Combination]:
    """Every combination, first axis slowest, with a readable, stable, unique name.

    Names carry the values (`lenet-lr_0.01-batch_size_64`); where a value has
    no short file-name form, or two names would clash, every name is the
    combination's number instead (`lenet-07`). `matrix.json` maps names to values.
    """
    products = list(itertools.product(*(a.values for a in matrix)))
    by_values: list[str | None] = []
    for values in products:
        tokens = [_token(v) for v in values]
        if any(t is None for t in tokens):
            by_values.append(None)
            continue
        by_values.append("-".join(f"{a.name}_{t}" for a, t in zip(matrix, tokens)))
    folded = [s.casefold() for s in by_values if s is not None]
    readable = all(
        s is not None and len(stem) + 1 + len(s) <= MAX_NAME for s in by_values
    ) and len(set(folded)) == len(folded)
    width = len(str(len(products) - 1))
    result = []
    for i, values in enumerate(products):
        suffix = by_values[i] if readable else None
        suffix = suffix if suffix is not None else f"{i:0{width}d}"
        result.append(
            Combination(
                f"{stem}-{suffix}", suffix, {a.name: v for a, v in zip(matrix, values)}
            )
        )
    return result


def _token(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.12g}"
    if isinstance(value, str):
        token = _UNSAFE.sub("_", value).strip("_.")
        return token or None
    if (
        isinstance(value, list)
        and value
        and all(
            isinstance(v, (int, float, str)) and not isinstance(v, bool) for v in value
        )
    ):
        parts = [_token(v) for v in value]
        return (
            None if any(p is None for p in parts) else "x".join(p for p in parts if p)
        )
    return None


def recorded_config(config: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """One combination's resolved config (its config.json) with its values as a one-value matrix.

    A run then says which combination it is (`plxgen results` reads it), and
    the file still compiles: to this one combination's script.
    """
    matrix = {name: {"values": [value]} for name, value in values.items()}
    recorded: dict[str, Any] = {}
    for key, value in config.items():
        recorded[key] = value
        if key == "project":
            recorded["matrix"] = matrix
    recorded.setdefault("matrix", matrix)
    return recorded


def hparams(values: dict[str, Any]) -> tuple[tuple[str, bool | int | float | str], ...]:
    """A combination as TensorBoard HParams: numbers, booleans and text as they are, others as JSON."""
    return tuple(
        (
            name,
            value if isinstance(value, (bool, int, float, str)) else json.dumps(value),
        )
        for name, value in values.items()
    )


def index_text(config: str, matrix: list[Axis], combos: list[Combination]) -> str:
    """The `matrix.json` beside the scripts: which values each script was compiled with.

    One axis and one script per line, so that a changed sweep diffs readably.
    """

    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=True, allow_nan=False)

    axes_lines = [f"    {dump(a.name)}: {dump(list(a.values))}" for a in matrix]
    script_lines = [f"    {dump(c.name + '.py')}: {dump(c.values)}" for c in combos]
    return (
        "{\n"
        f'  "generated_by": {dump(f"plxgen {__version__}")},\n'
        f'  "config": {dump(config)},\n'
        '  "axes": {\n' + ",\n".join(axes_lines) + "\n  },\n"
        '  "scripts": {\n' + ",\n".join(script_lines) + "\n  }\n"
        "}\n"
    )


def is_index(text: str) -> bool:
    """Whether a file's text is a `matrix.json` that plxgen wrote."""
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and str(data.get("generated_by", "")).startswith(
        "plxgen "
    )
