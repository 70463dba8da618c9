"""Every pattern of both schemas ends at the end of the string, in every regex dialect.

Python's `$` (jsonschema's) also matches before a trailing newline, so a
pattern ending in a bare `$` let `"name\\n"` through; `\\Z` is not ECMA-262
(an editor reads it as a literal `Z`). The schemas end patterns with
`$(?!\\n)` (registry.END), which means the end of the string in Python's re,
in fastjsonschema (which rewrites `$` as `\\Z`) and in ECMA-262.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

import pytest

from plxgen.compiler.validate import _validator, editor_schema_text, schema_text

# Strings some pattern of the schemas accepts (a name, a host, a range, ...).
SAMPLES = ["x", "image", "_a1", "localhost:2222", "1:10:1", "0:1:10:2", "A", ""]


def _patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            elif key == "patternProperties" and isinstance(value, dict):
                yield from value
            yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


PATTERNS = sorted(
    set(_patterns(json.loads(schema_text())))
    | set(_patterns(json.loads(editor_schema_text())))
)


@pytest.mark.parametrize("pattern", PATTERNS)
def test_no_pattern_accepts_a_trailing_newline(pattern: str) -> None:
    # jsonschema searches with Python's re; fastjsonschema rewrites `$` as `\Z`.
    dialects = [pattern, re.sub(r"(?<!\\)\$", r"\\Z", pattern)]
    for sample in SAMPLES:
        for dialect in dialects:
            # A pattern anchored at the end (not one that checks a prefix only).
            if re.search(dialect, sample) and pattern.endswith(("$", "$(?!\\n)")):
                assert not re.search(dialect, sample + "\n"), (pattern, sample)
    assert not re.search(r"(?<!\\)\$(?!\(\?!\\n\))", pattern), "end it with registry.END"
    assert "\\Z" not in pattern and "\\A" not in pattern, "not ECMA-262: use registry.END"


def test_a_count_written_as_a_float_is_not_an_integer() -> None:
    """Draft 7 calls 10.0 an integer; the compiler's validator does not."""
    validator = _validator()
    assert validator.is_type(10, "integer")
    assert not validator.is_type(10.0, "integer")
    assert not validator.is_type(True, "integer")
    assert validator.is_type(10.0, "number")
