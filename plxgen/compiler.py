"""The pipeline, stage by stage: load -> overrides -> validate -> lower -> render -> format -> header."""

from __future__ import annotations

import copy
import os
import posixpath
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plxgen.errors import ConfigError, Diagnostic, UserError
from plxgen.load import MAX_FILE_BYTES, Document, load_bytes, load_text
from plxgen.load import Path as JsonPath
from plxgen.literals import comment

if TYPE_CHECKING:
    from plxgen import ir

# A list index has at most 18 digits: any real list is shorter, and int() stays cheap.
_SET = re.compile(
    r"([A-Za-z_][\w-]*|\[[0-9]{1,18}\])(\.[A-Za-z_][\w-]*|\.[0-9]{1,18}|\[[0-9]{1,18}\])*"
)


def read_config(config: Path) -> Document:
    """Load an experiment file from disk."""
    shown = comment(str(config))  # a file name with a newline stays on one line
    try:
        with open(config, "rb") as f:  # bounded: CONFIG may be /dev/zero or a pipe
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise UserError(f"cannot read {shown}: {exc.strerror or exc}") from None
    return load_bytes(raw, shown)


def apply_overrides(doc: Document, sets: list[str]) -> Document:
    """Apply `--set PATH=VALUE` overrides (VALUE parsed as YAML) before validation."""
    if not sets:
        return doc
    data = copy.deepcopy(doc.data)
    overrides = dict(doc.overrides)
    errors = []
    for item in sets:
        origin = comment(f"--set {item if len(item) <= 80 else item[:77] + '...'}")
        path_text, sep, value_text = item.partition("=")
        if not sep or not _SET.fullmatch(path_text):
            errors.append(
                Diagnostic(
                    origin,
                    1,
                    1,
                    "$",
                    "expected PATH=VALUE, e.g. train.train_steps=500",
                    "bad-set",
                )
            )
            continue
        try:
            value = load_text(value_text, origin).data if value_text.strip() else None
        except ConfigError as exc:
            errors.extend(exc.diagnostics)
            continue
        path = _parse_path(path_text)
        problem = _assign(data, path, value)
        if problem:
            errors.append(Diagnostic(origin, 1, 1, path_text, problem, "bad-set"))
        else:
            overrides[path] = origin
    if errors:
        raise ConfigError(errors)
    return replace(doc, data=data, overrides=overrides)


def _parse_path(text: str) -> JsonPath:
    parts: list[str | int] = []
    for token in re.findall(r"\[\d+\]|[^.\[\]]+", text):
        if token.startswith("["):
            parts.append(int(token[1:-1]))
        elif token.isascii() and token.isdigit():
            parts.append(int(token))
        else:
            parts.append(token)
    return tuple(parts)


def _assign(data: Any, path: JsonPath, value: Any) -> str | None:
    node = data
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                return f"no list item [{part}] here"
            if last:
                node[part] = value
            else:
                node = node[part]
            continue
        if not isinstance(node, dict):
            return f"cannot set {part!r} inside a {type(node).__name__}"
        if last:
            node[part] = value
        else:
            if node.get(part) is None:
                node[part] = {}
            node = node[part]
    return None


def check(doc: Document) -> ir.Experiment:
    """Validate and lower a document (no paths needed): the `validate` command."""
    return lower_document(doc, "config.yaml", "")


def lower_document(doc: Document, config_rel: str, data_prefix: str) -> ir.Experiment:
    """Schema validation, then semantic checks and lowering to the IR."""
    from plxgen.lower import lower
    from plxgen.validate import validate

    diagnostics = validate(doc)
    if diagnostics:
        raise ConfigError(diagnostics)
    return lower(doc, config_rel, data_prefix)


def compile_config(config: Path, out: Path | None, sets: list[str]) -> str:
    """The complete script (header included) that `plxgen compile` writes for a config."""
    from plxgen import cache
    from plxgen.write import with_header

    doc = apply_overrides(read_config(config), sets)
    script_dir = os.path.abspath(out.parent if out else Path("."))
    config_abs = os.path.abspath(config)
    config_rel = _posix(os.path.relpath(config_abs, script_dir))
    data_prefix = _posix(os.path.relpath(os.path.dirname(config_abs), script_dir))
    data_prefix = "" if data_prefix == "." else data_prefix
    # A valid document compiled before (same compiler): skip validation to black.
    name = cache.key(doc.data, config_rel, data_prefix)
    body = cache.get(name)
    if body is None:
        from plxgen.format import format_source
        from plxgen.render import render

        body = format_source(render(lower_document(doc, config_rel, data_prefix)))
        cache.put(name, body)
    script_name = out.name if out else "train.py"
    return with_header(body, config_rel, script_name, sets)


def _posix(path: str) -> str:
    return posixpath.join(*path.split(os.sep)) if os.sep != "/" else path
