"""The one error funnel: every problem a user can cause becomes a Diagnostic."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

# A runner-up is offered beside the best match only when it scores this close to it.
_TIE = 0.02


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
    """One located problem: `FILE:LINE:COL: error: JSON.PATH: message [code]`."""

    file: str
    line: int
    col: int
    path: str
    message: str
    code: str
    hint: str | None = None

    def format(self) -> str:
        """Render as the one or two lines that docs/contract.md fixes."""
        text = f"{self.file}:{self.line}:{self.col}: error: {self.path}: {self.message} [{self.code}]"
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
