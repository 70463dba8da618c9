"""The one error funnel: every problem a user can cause becomes a Diagnostic.

An error stops the command (ConfigError); a warning (`warn`) is collected by the
enclosing `collecting_warnings()` and reported beside the errors, whatever the
stage that found it, unless the command is strict: it is then an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace

# A runner-up is offered beside the best match only when it scores this close to it.
_TIE = 0.02

# Names other tools (Keras' fit, PyTorch, Polyaxon's later versions) give to
# what plxgen spells otherwise, too far apart for a spelling match to find.
ALIASES = {
    "lr": "learning_rate",
    "epochs": "num_epochs",
}


def alias(word: str) -> str | None:
    """plxgen's name for a common alias (`lr` -> `learning_rate`), else None."""
    return ALIASES.get(word.lower())


def escape(text: str) -> str:
    """Text as one line of a message: every control character escaped as repr does.

    The funnel of every message: a value echoed from a file (a matrix axis, a
    layer name, a path) can neither forge a diagnostic line nor reach the
    terminal as ESC or BEL. Printable text, repr'd text included, is unchanged.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One located problem: `FILE:LINE:COL: error: JSON.PATH: message [code]`
    (`warning:` in place of `error:` for a warning)."""

    file: str
    line: int
    col: int
    path: str
    message: str
    code: str
    hint: str | None = None
    severity: str = "error"  # error | warning

    @property
    def column(self) -> int:
        """The column, 1-based (the same as `col`)."""
        return self.col

    def format(self) -> str:
        """Render as the one or two lines that docs/contract.md fixes."""
        text = f"{self.file}:{self.line}:{self.col}: {self.severity}: {self.path}: {self.message} [{self.code}]"
        text = escape(text)
        if self.hint:
            text += f"\n  hint: {escape(self.hint)}"
        return text


class UserError(Exception):
    """A mistake in the command line, a file or the environment (exit code 2)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def format(self) -> str:
        """Render as `plxgen: error: ...` plus an optional hint line."""
        text = f"plxgen: error: {escape(self.message)}"
        if self.hint:
            text += f"\n  hint: {escape(self.hint)}"
        return text


class ConfigError(Exception):
    """One or more diagnostics about an experiment file (exit code 2)."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(f"{len(diagnostics)} error(s)")
        self.diagnostics = sorted(set(diagnostics))


@dataclass
class Warnings:
    """The warnings collected so far; `strict`: the command makes them errors."""

    found: list[Diagnostic] = field(default_factory=list)
    strict: bool = False


_COLLECTOR: ContextVar[Warnings | None] = ContextVar("plxgen_warnings", default=None)


@contextmanager
def collecting_warnings(strict: bool | None = None) -> Iterator[Warnings]:
    """Collect the warnings reported (`warn`) while the block runs.

    Nested, it inherits the enclosing collector's strictness; what it found is
    the caller's to pass on (`warn` each one again).
    """
    outer = _COLLECTOR.get()
    if strict is None:
        strict = bool(outer and outer.strict)
    collector = Warnings(strict=strict)
    token = _COLLECTOR.set(collector)
    try:
        yield collector
    finally:
        _COLLECTOR.reset(token)


def warn(diagnostic: Diagnostic) -> None:
    """Report a located warning to the enclosing collector (none: it is dropped)."""
    collector = _COLLECTOR.get()
    diagnostic = replace(diagnostic, severity="warning")
    if collector is not None and diagnostic not in collector.found:
        collector.found.append(diagnostic)


def strict_errors(warnings: list[Diagnostic]) -> list[Diagnostic]:
    """The warnings as errors when the command is strict (--strict, -W error), else none."""
    collector = _COLLECTOR.get()
    if collector is None or not collector.strict:
        return []
    return [replace(w, severity="error") for w in warnings]


def make_strict() -> None:
    """Make the enclosing collector's warnings errors (the command's --strict)."""
    collector = _COLLECTOR.get()
    if collector is not None:
        collector.strict = True


def summary(diagnostics: Iterable[Diagnostic]) -> str:
    """The summary line: `1 error`, `2 warnings`, `1 error and 2 warnings`."""
    items = list(diagnostics)
    errors = sum(1 for d in items if d.severity == "error")
    warnings = len(items) - errors
    parts = [
        f"{n} {word}{'s' if n != 1 else ''}"
        for n, word in ((errors, "error"), (warnings, "warning"))
        if n or (word == "error" and not warnings)
    ]
    return " and ".join(parts)


def did_you_mean(
    word: str,
    choices: Iterable[str],
    *,
    cutoff: float = 0.6,
    ignore_case: bool = False,
    alternatives: int = 1,
    quote: Callable[[str], str] = repr,
) -> str | None:
    """`did you mean 'X'?` (or `'X' or 'Y'?`) for the choices close to word, else None."""
    # Imported here: only a failing file needs it.
    import difflib

    def fold(text: str) -> str:
        return text.lower() if ignore_case else text

    # A folded name -> the spelling shown; a later choice wins a fold it shares.
    spelled = {fold(choice): choice for choice in choices}
    folded = fold(word)
    aliased = alias(word)
    if aliased is not None and fold(aliased) in spelled:
        return f"did you mean {quote(spelled[fold(aliased)])}?"
    close = difflib.get_close_matches(
        folded, list(spelled), n=alternatives, cutoff=cutoff
    )
    if not close:
        return None
    # Scored again as (word, choice), as validation always has: difflib scored
    # (choice, word), the ratio is not symmetric, and it decides the runner-up.
    scores = [difflib.SequenceMatcher(None, folded, c).ratio() for c in close]
    best = [c for c, score in zip(close, scores) if score >= scores[0] - _TIE]
    return "did you mean " + " or ".join(quote(spelled[c]) for c in best) + "?"
