"""The Python API: compile or validate a config from a notebook or a tool, no subprocess.

What `plxgen compile` and `plxgen validate` do, minus the shell: the script
comes back as a string, problems come back as `Diagnostic` objects (raised in
one `CompileError`), and nothing is printed, written, cached or exited.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Union

from plxgen.errors import ConfigError, Diagnostic, UserError, collecting_warnings

Overrides = Union[Iterable[str], Mapping[str, Any]]
Source = Union[str, Mapping[str, Any]]


class CompileError(Exception):
    """A config that does not compile; `diagnostics` holds every problem found.

    `str(error)` is the diagnostics as `plxgen validate` prints them, one per
    line (a hint on its own line).
    """

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = sorted(set(diagnostics))
        super().__init__("\n".join(d.format() for d in self.diagnostics))


def compile_file(
    path: str | os.PathLike[str],
    *,
    overrides: Overrides = (),
    output: str | os.PathLike[str] | None = None,
    strict: bool = False,
) -> str:
    """The script `plxgen compile PATH [-o OUTPUT] [--set ...]` writes, as a string.

    `overrides` are `--set` items (`["train.train_steps=500"]`) or a mapping
    of the same paths to Python values (`{"train.train_steps": 500}`).
    `output` is where the script will live (default: the current folder, as
    for stdout): the header names the config relative to it, and relative data
    paths are resolved from it. `strict` makes warnings errors. Raises
    `CompileError` on a bad config, also for one with a `matrix` (it compiles
    to a folder of scripts: use `plxgen compile CONFIG -o DIR`).
    """
    from plxgen.compiler import read_config

    config = Path(path)
    with _funnel(str(config), strict):
        doc = read_config(config)
    return _compile(doc, config, output, overrides, strict)


def compile_string(
    source: Source,
    *,
    filename: str = "config.yaml",
    base_dir: str | os.PathLike[str] = ".",
    overrides: Overrides = (),
    output: str | os.PathLike[str] | None = None,
    strict: bool = False,
) -> str:
    """The script for a config given as YAML text or as an already loaded dict.

    `filename` names the config in diagnostics and in the header; `base_dir`
    is the folder it stands for, from which its relative data paths are
    resolved (default: the current folder). The other arguments are those of
    `compile_file`. A dict's diagnostics are located at line 1, column 1 with
    the JSON path of the value; a value that YAML cannot hold (a set, an
    object) is a TypeError.
    """
    doc = _document(source, filename, strict)
    return _compile(doc, Path(base_dir) / filename, output, overrides, strict)


def validate_file(
    path: str | os.PathLike[str],
    *,
    overrides: Overrides = (),
    strict: bool = False,
) -> list[Diagnostic]:
    """Every error and warning `plxgen validate PATH` reports, in file order ([]: valid)."""
    from plxgen.compiler import read_config

    try:
        with _funnel(str(path), strict):
            doc = read_config(Path(path))
    except CompileError as exc:
        return exc.diagnostics
    return _validate(doc, overrides, strict)


def validate_string(
    source: Source,
    *,
    filename: str = "config.yaml",
    overrides: Overrides = (),
    strict: bool = False,
) -> list[Diagnostic]:
    """Every error and warning of a config given as YAML text or a dict ([]: valid)."""
    try:
        doc = _document(source, filename, strict)
    except CompileError as exc:
        return exc.diagnostics
    return _validate(doc, overrides, strict)


@contextmanager
def _funnel(file: str, strict: bool) -> Iterator[list[Diagnostic]]:
    """Run a block with the warnings collected and the compiler's errors as one CompileError.

    The cache is bypassed: a library call neither reads nor writes ~/.cache.
    A UserError (an unreadable file, a matrix compiled to one script) becomes
    a diagnostic located at the config's first line.
    """
    from plxgen.compiler import cache

    with cache.bypassed(), collecting_warnings(strict) as collector:
        try:
            yield collector.found
        except ConfigError as exc:
            raise CompileError(exc.diagnostics) from None
        except UserError as exc:
            error = Diagnostic(
                file, 1, 1, "$", exc.message, "unusable-config", exc.hint
            )
            raise CompileError([error]) from None


def _document(source: Source, filename: str, strict: bool) -> Any:
    from plxgen.compiler.load import Document, load_text

    if isinstance(source, str):
        with _funnel(filename, strict):
            return load_text(source, filename)
    if not isinstance(source, Mapping):
        raise TypeError(
            f"a config is YAML text or a mapping, not {type(source).__name__}"
        )
    import yaml

    text = yaml.safe_dump(_plain(source, "$"), sort_keys=False, allow_unicode=True)
    with _funnel(filename, strict):
        loaded = load_text(text, filename)
    # Lines of the dumped text mean nothing to the caller: every value at 1:1.
    return Document(filename, loaded.data)


def _plain(value: Any, where: str) -> Any:
    """A caller's value as YAML's plain data (a tuple as a list); TypeError for anything else."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"{where}: a config's keys are strings, not {key!r}")
        return {key: _plain(item, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise TypeError(
        f"{where}: a config holds only YAML values (mappings, lists, strings, "
        f"numbers, booleans, None), not {type(value).__name__}"
    )


def _sets(overrides: Overrides) -> list[str]:
    """Overrides as `--set PATH=VALUE` items (a mapping's values written as flow YAML)."""
    if isinstance(overrides, str):
        return [overrides]
    if isinstance(overrides, Mapping):
        from plxgen.compiler.write import flow

        return [f"{path}={flow(value)}" for path, value in overrides.items()]
    return list(overrides)


def _compile(
    doc: Any,
    config: Path,
    output: str | os.PathLike[str] | None,
    overrides: Overrides,
    strict: bool,
) -> str:
    from plxgen.compiler import Target, apply_overrides, compile_target

    sets = _sets(overrides)
    out = Path(output) if output is not None else None
    with _funnel(doc.file, strict):
        doc = apply_overrides(doc, sets)
        if isinstance(doc.data, dict) and "matrix" in doc.data:
            raise ConfigError([doc.diagnostic(
                ("matrix",), "a config with a matrix compiles to a folder of scripts, "
                "one per combination, not to one script", "matrix-folder",
                "compile it to a folder: plxgen compile CONFIG -o DIR", key=True,
            )])  # fmt: skip
        (script,) = compile_target(Target(config, out, None), sets, document=doc)
    return script.text


def _validate(doc: Any, overrides: Overrides, strict: bool) -> list[Diagnostic]:
    from plxgen.compiler import apply_overrides, check

    try:
        with _funnel(doc.file, strict) as warnings:
            check(apply_overrides(doc, _sets(overrides)))
    except CompileError as exc:
        return sorted(set(exc.diagnostics + warnings))
    return sorted(set(warnings))
