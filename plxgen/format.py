"""black, in process, on the parts of a script that are not known to be formatted.

A script is a sequence of top-level chunks: a chunk starts at a top-level
statement (with the comment lines right above it) that follows a blank line.
How black lays out a chunk, blank lines before it included, depends only on
the chunk's text and on the chunk before it. So a pair (previous chunk, chunk)
taken from a file that black left unchanged is formatted wherever it appears
again, and a chunk whose pair is known needs no black at all.

Known pairs come from the generated examples (shipped with the package, see
`plxgen.precompile`) and from earlier compiles (a file in the cache folder).
The unknown chunks, each after the chunk before it for context, go through
black's first pass in one call; their part of its output replaces them, and a
chunk that the first pass changed gets black's full treatment alone. A
statement that the renderer laid out as black does (the resolved config)
reaches black as a one-line stand-in, which black only places. Anything
unexpected (a `fmt:` directive, black moving a chunk boundary, a changed chunk
that starts with a string, which black alone would take for a docstring) means
black on the whole script instead. tests/test_format.py checks that the result
equals black's output on the whole script.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import os
from functools import lru_cache
from typing import Any, Collection

_MEMO_FILE = "formatted-chunks"
_MEMO_MAX_BYTES = 4_000_000  # about 120,000 pairs; beyond that it starts again


def format_source(source: str, laid_out: Collection[str] = ()) -> str:
    """Format with black and make sure the result parses (a failure is a plxgen bug).

    `laid_out`: statements of `source` already in black's layout by construction
    (the resolved config); black only places them.
    """
    chunks = _format(source, laid_out)
    formatted = "".join(chunks)
    compile(formatted, "<generated script>", "exec")
    _remember(chunks)
    return formatted


def black_mode() -> Any:
    """black's defaults, with the Python versions that run the scripts named.

    Naming them spares black inferring them from each file (and a chunk alone
    infers the same versions as the whole script).
    """
    import black  # imported here: only formatting needs it, and it is the slowest import
    from black.mode import TargetVersion

    return black.Mode(
        target_versions={
            version
            for version in TargetVersion
            if version.value >= TargetVersion.PY310.value
        }
    )


def black_format(source: str) -> str:
    """black on the whole text."""
    import black

    formatted: str = black.format_str(source, mode=black_mode())
    return formatted


def _format(source: str, laid_out: Collection[str]) -> list[str]:
    """The formatted script, as its chunks."""
    chunks = split(source)
    if chunks is None:
        return _whole(source)
    texts = [text for text, _ in chunks]
    known = _known()
    missing = [i for i, key in enumerate(pair_keys(texts)) if key not in known]
    if not missing:
        return texts
    # The unknown chunks, each run of them after the chunk before it.
    wanted = sorted({j for i in missing for j in (i - 1, i) if j >= 0})
    # A statement laid out by construction goes to black as a one-line stand-in.
    given = {i: _head(texts[i]) for i in wanted}
    given = {i: parts for i, parts in given.items() if parts[1] in laid_out}
    output = _black_chunks(
        [_stand_in(*given[i]) if i in given else texts[i] for i in wanted],
        [chunks[i][1] for i in wanted],
    )
    if output is None:
        return _whole(source)
    for i, text in zip(wanted, output):
        if i in missing:
            texts[i] = _head(text)[0] + given[i][1] if i in given else text
    return texts


def _whole(source: str) -> list[str]:
    """black on the whole script, as its chunks."""
    formatted = black_format(source)
    chunks = split(formatted)
    return [text for text, _ in chunks] if chunks else [formatted]


def _black_chunks(texts: list[str], counts: list[int]) -> list[str] | None:
    """black's output for consecutive chunks, chunk by chunk (None: black moved a boundary).

    black formats a text a second time when its first pass changed it. Here
    that second pass goes to each changed chunk alone: the first pass placed
    the blank lines between chunks for good, and what the second pass adds
    (trailing commas that the first one wrote) stays inside a statement.
    """
    import black

    once = getattr(black, "_format_str_once", None)
    if once is None:  # black's public API: both passes over everything
        once = black.format_str
    output = split(once("".join(texts), mode=black_mode()))
    if output is None or [n for _, n in output] != counts:
        return None
    formatted = [text for text, _ in output]
    if once is black.format_str:
        return formatted
    for k, text in enumerate(formatted):
        if text == texts[k]:
            continue
        blank = text[: len(text) - len(text.lstrip("\n"))]
        body = text[len(blank) :]
        if _starts_with_string(body):  # alone, black would take it for a docstring
            return None
        formatted[k] = blank + black_format(body)
    return formatted


def _starts_with_string(chunk: str) -> bool:
    body = ast.parse(chunk).body
    return (
        bool(body)
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
    )


def _head(chunk: str) -> tuple[str, str]:
    """A chunk's leading blank and comment lines, and the rest."""
    lines = chunk.splitlines(keepends=True)
    n = 0
    while n < len(lines) and (not lines[n].strip() or lines[n].startswith("#")):
        n += 1
    return "".join(lines[:n]), "".join(lines[n:])


def _stand_in(head: str, statement: str) -> str:
    """`NAME = <literal>` as `NAME = None`: the same kind of line for black's blank-line rules."""
    return f"{head}{statement.split(' = ', 1)[0]} = None\n"


def split(source: str) -> list[tuple[str, int]] | None:
    """The top-level chunks of `source`, each with its leading blank lines and its number of statements.

    None when the source does not parse or holds a black directive (`# fmt: off`),
    which ties chunks together.
    """
    if "fmt:" in source:
        return None
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    lines = source.splitlines(keepends=True)
    starts = [0]
    counts = [0]
    end = 0  # the line after the previous statement (strings included)
    for node in tree.body:
        top = node.lineno - 1
        for decorator in getattr(node, "decorator_list", ()):
            top = min(top, decorator.lineno - 1)
        while top > end and lines[top - 1].startswith("#"):
            top -= 1
        if top > end and not lines[top - 1].strip():
            while top > end and not lines[top - 1].strip():
                top -= 1
            if top > starts[-1]:
                starts.append(top)
                counts.append(0)
        counts[-1] += 1
        end = node.end_lineno or node.lineno
    bounds = starts + [len(lines)]
    return [("".join(lines[a:b]), n) for a, b, n in zip(bounds, bounds[1:], counts)]


def pair_keys(chunks: list[str]) -> list[str]:
    """A name for each chunk together with the chunk before it."""
    keys = []
    previous = ""
    for chunk in chunks:
        digest = hashlib.sha256(previous.lstrip("\n").encode())
        digest.update(b"\0" + chunk.encode())
        keys.append(digest.hexdigest()[:32])
        previous = chunk
    return keys


def formatted_keys(source: str) -> set[str]:
    """The pairs of a formatted script."""
    chunks = split(source)
    return set(pair_keys([text for text, _ in chunks])) if chunks else set()


@lru_cache(maxsize=1)
def _known() -> set[str]:
    from plxgen import cache

    known: set[str] = set(_shipped())
    if cache.enabled():
        with contextlib.suppress(OSError, UnicodeDecodeError):
            known.update((cache.directory() / _MEMO_FILE).read_text().split())
    return known


def _shipped() -> frozenset[str]:
    try:
        from plxgen.compiled_templates.formatted_chunks import KEYS
    except ImportError:
        return frozenset()
    return KEYS


def _remember(chunks: list[str]) -> None:
    """Add the pairs of a formatted script's chunks to the cache folder's list (best effort)."""
    from plxgen import cache

    if not cache.enabled():
        return
    known = _known()
    new = set(pair_keys(chunks)) - known
    if not new:
        return
    path = cache.directory() / _MEMO_FILE
    text = "".join(f"{key}\n" for key in sorted(new))
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        if path.exists() and path.stat().st_size > _MEMO_MAX_BYTES:
            flags |= os.O_TRUNC
        # One short append per script: concurrent compiles do not tear lines.
        fd = os.open(path, flags, 0o600)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)
    known.update(new)
