"""What every part of lowering shares: the document, where its files are, the
diagnostics collected so far (every check reports through `Context.fail`), and
small helpers on names and `Name: {args}` mappings."""

from __future__ import annotations

import builtins
import keyword
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from plxgen.compiler.load import Document, Path, show
from plxgen.errors import ConfigError, Diagnostic, warn
from plxgen.schema import registry

IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
# Names the generated script itself uses; a layer variable never shadows them.
_SCRIPT_NAMES = {
    "tf",
    "keras",
    "np",
    "os",
    "sys",
    "json",
    "math",
    "time",
    "logging",
    "argparse",
    "features",
    "labels",
    "inputs",
    "outputs",
    "model",
    "x",
    "build_model",
}
_BUILTINS = frozenset(dir(builtins))


@dataclass
class Context:
    """One document being lowered, and the diagnostics found in it so far."""

    doc: Document
    config_path: str
    data_prefix: str
    errors: list[Diagnostic] = field(default_factory=list)

    def fail(
        self,
        path: Path,
        message: str,
        code: str,
        hint: str | None = None,
        *,
        key: bool = False,
    ) -> None:
        """Record a located diagnostic."""
        self.errors.append(self.doc.diagnostic(path, message, code, hint, key=key))

    def warn(
        self,
        path: Path,
        message: str,
        code: str,
        hint: str | None = None,
        *,
        key: bool = False,
    ) -> None:
        """Report a located warning (an error under --strict)."""
        warn(self.doc.diagnostic(path, message, code, hint, key=key))

    def check(self) -> None:
        """Raise every diagnostic recorded so far, if there is one."""
        if self.errors:
            raise ConfigError(self.errors)

    def data_path(self, path: str) -> str:
        """A data file as the script reads it: relative to the script's folder."""
        if path.startswith("/"):
            return path
        return _join(self.data_prefix, path)


def one(mapping: Any) -> tuple[str, dict[str, Any]]:
    """A `Name: {args}` mapping or bare `Name` -> (name, args)."""
    if isinstance(mapping, str):
        return mapping, {}
    ((name, args),) = mapping.items()
    return name, dict(args or {})


def kwargs(args: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """A mapping of keyword arguments as the IR holds them."""
    return tuple(args.items())


def or_default(section: dict[str, Any], fields: dict[str, Any], name: str) -> Any:
    """A field of a config section, else its default in the section's schema `fields`."""
    return section.get(name, registry.schema_default(fields, name))


def names(value: Any) -> list[str]:
    """A name or a list of names (input_layers, output_layers) as a list."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def snake_case(name: str) -> str:
    """`TruePositives` -> `true_positives`, as Keras names its metrics (`AUC`: its entry's key)."""
    metric = registry.METRICS.get(name)
    if metric is not None and metric.key:
        return metric.key
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def near(word: str, choices: list[str]) -> str | None:
    """A did-you-mean, else the first few known names (bounded work and text)."""
    import difflib

    if len(choices) <= 1000 and len(word) <= 100:
        close = difflib.get_close_matches(word, choices, n=1)
        if close:
            return f"did you mean {show(close[0])}?"
    if not choices:
        return None
    shown = ", ".join(c if len(c) <= 60 else show(c) for c in choices[:12])
    if len(choices) <= 12:
        return "known names: " + shown
    return f"known names: {shown}, ... ({len(choices)} in all)"


def safe_var(name: str, fallback: str) -> str:
    """A config name as a Python variable, if it is a safe identifier; else the fallback."""
    if (
        IDENT.fullmatch(name)
        and not keyword.iskeyword(name)
        and name not in _SCRIPT_NAMES
        and not name.startswith("__")
    ):
        # A layer named `sum` or `input` must not shadow the builtin.
        return f"{name}_" if name in _BUILTINS else name
    return fallback


def parse_source(source: str) -> Path:
    """A path as `format_path` wrote it (an IR node's source) -> the path."""
    parts: list[str | int] = []
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", source):
        parts.append(int(token[1:-1]) if token.startswith("[") else token)
    return tuple(parts)


def _join(prefix: str, path: str) -> str:
    return (
        posixpath.normpath(posixpath.join(prefix, path))
        if prefix
        else posixpath.normpath(path)
    )
