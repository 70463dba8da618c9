"""The one function that turns a value into Python source.

Config values reach a generated script only through `py()`: plain data
becomes a literal built from `repr` of checked types, and IR symbols become
names only if they are dotted identifiers (they come from the registry or the
templates, never from a config string).
"""

from __future__ import annotations

import keyword
import math
import re
from typing import Any

_QUALNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def py(value: Any) -> str:
    """Python source for a value: a literal, or a checked name or call."""
    if value is None or value is True or value is False:
        return repr(value)
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, float):
        if math.isnan(value):
            raise ValueError("NaN cannot be written as a literal")
        if math.isinf(value):
            return 'float("inf")' if value > 0 else 'float("-inf")'
        return repr(float(value)).replace("e+", "e")  # as black writes it: 1e16
    if isinstance(value, str):
        text = repr(str(value))
        # black's quotes where the swap is trivially safe (no quote in the text).
        if "'" in value or '"' in value:
            return text
        return f'"{text[1:-1]}"'
    # Imported here: the IR's dataclasses cost ~10 ms, which a cached compile never needs.
    from plxgen.compiler.ir import Call, Symbol

    if isinstance(value, Symbol):
        return ident(value.qualname, dotted=True)
    if isinstance(value, Call):
        args = [py(v) for v in value.args] + [
            f"{ident(k)}={py(v)}" for k, v in value.kwargs
        ]
        return f"{py(value.func)}({', '.join(args)})"
    if isinstance(value, list):
        return "[" + ", ".join(py(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(py(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"dict key {k!r} is not a string")
            items.append(f"{py(k)}: {py(v)}")
        return "{" + ", ".join(items) + "}"
    raise TypeError(f"cannot write a {type(value).__name__} as a Python literal")


def ident(name: str, *, dotted: bool = False) -> str:
    """A checked identifier (or dotted name); anything else is a bug in plxgen."""
    pattern = _QUALNAME if dotted else _KEY
    if not isinstance(name, str) or not pattern.fullmatch(name):
        raise ValueError(f"{name!r} is not a safe identifier")
    if any(keyword.iskeyword(part) for part in name.split(".")):
        raise ValueError(f"{name!r} is a Python keyword")
    return name


def docstring(text: str) -> str:
    """A triple-quoted string literal whose value is exactly `text`, also after black.

    black strips a docstring's outer spaces, the spaces that end its lines and
    the indentation common to its later lines, pads a closing quote, drops
    trailing blank lines and breaks a long last line before the closing
    quotes. So those spaces and quotes are written as escapes (`\\x20`,
    `\\x22`), which black leaves alone, and where the lines themselves are at
    risk the newlines too (`\\n`: one line, which black only strips).
    """
    lines = text.split("\n")
    indents = [_indent(line) for line in lines[1:] if line.strip(" ")]
    common = min(indents, default=0)
    out = []
    for n, line in enumerate(lines):
        body = line.rstrip(" ")
        lead = _indent(body)
        if n == 0:
            keep = 0
        elif common and lead == common:
            keep = lead - 1
        else:
            keep = lead
        out.append(
            "\\x20" * (lead - keep)
            + " " * keep
            + "".join(_docstring_char(c) for c in body[lead:])
            + "\\x20" * (len(line) - len(body))
        )
    if len(out) > 1 and (not any(out[1:]) or len(out[-1]) > _LAST_LINE):
        source = "\\n".join(out)
    else:
        source = "\n".join(out)
    if source.endswith('\\"'):
        source = source[:-2] + "\\x22"
    return '"""' + source + '"""'


# black moves the closing quotes of a docstring whose last line is longer.
_LAST_LINE = 60


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _docstring_char(char: str) -> str:
    if char == "\\":
        return "\\\\"
    if char == '"':
        return '\\"'
    if not char.isprintable():
        return repr(char)[1:-1]
    return char


def comment(text: str) -> str:
    """Text safe to place after `#`: one line, no control characters."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
