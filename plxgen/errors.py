"""The one error funnel: every problem a user can cause becomes a Diagnostic."""

from __future__ import annotations

from dataclasses import dataclass


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
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class UserError(Exception):
    """A mistake in the command line, a file or the environment (exit code 2)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def format(self) -> str:
        """Render as `plxgen: error: ...` plus an optional hint line."""
        text = f"plxgen: error: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class ConfigError(Exception):
    """One or more diagnostics about an experiment file (exit code 2)."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(f"{len(diagnostics)} error(s)")
        self.diagnostics = sorted(set(diagnostics))
