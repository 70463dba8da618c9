"""The compiler's pipeline, one module a stage, wired together here:

    load      YAML -> data with the position of every value (`load.py`)
    overrides `--set PATH=VALUE`, applied before anything else (here)
    front     declarations, `{{ }}` expressions, for/if operators, matrix values
              (`front.py`, `expressions.py`, `matrix.py`)
    validate  the JSON Schema, every error located, with a did-you-mean (`validate.py`)
    lower     validated data -> the typed IR, with the checks a schema cannot express (`lower/`, `ir.py`, `rl_ir.py`)
    render    IR -> Python source through the templates (`render.py`, `literals.py`)
    format    black on the whole script, then a parse check (`format.py`)
    write     the header with its body hash, atomic writes, overwrite protection (`write.py`, `outputs.py`)

    launch    `--target`: the SLURM or Kubernetes launcher beside the scripts (`launch.py`)

A valid document compiled before skips validate to format (`cache.py`); a
matrix's combinations are compiled on all cores (`pool.py`).
"""

from __future__ import annotations

import copy
import os
import posixpath
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plxgen.errors import (
    ConfigError,
    Diagnostic,
    UserError,
    collecting_warnings,
    strict_errors,
    warn,
)
from plxgen.compiler.load import MAX_FILE_BYTES, Document, load_bytes, load_text
from plxgen.compiler.load import Path as JsonPath
from plxgen.compiler.literals import comment

if TYPE_CHECKING:
    from plxgen.compiler import ir
    from plxgen.compiler.matrix import Combination
    from plxgen.compiler.rl_ir import RLExperiment

# A list index has at most 18 digits: any real list is shorter, and int() stays cheap.
_SET = re.compile(
    r"([A-Za-z_][\w-]*|\[[0-9]{1,18}\])(\.[A-Za-z_][\w-]*|\.[0-9]{1,18}|\[[0-9]{1,18}\])*"
)


def read_config(config: Path) -> Document:
    """Load an experiment file from disk."""
    from plxgen.compiler.write import regular

    shown = comment(str(config))  # a file name with a newline stays on one line
    regular(config)  # a FIFO would block open(), a device never ends: refused unopened
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
                    "PATH is dotted keys and [N] list indexes, e.g. model.classifier.graph.layers[0].Dense.units=64",
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
            errors.append(Diagnostic(
                origin, 1, 1, path_text, problem, "bad-set",
                "set a key of an existing mapping, or an existing list item by its index",
            ))  # fmt: skip
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


def check(doc: Document, cap: int | None = None) -> ir.Experiment | RLExperiment:
    """Validate and lower a document (no paths needed): the `validate` command.

    A matrix document is checked for every combination; the diagnostics of
    all of them are reported together.
    """
    from plxgen.compiler import matrix

    found = matrix.axes(doc, cap or matrix.MAX_COMBINATIONS)
    if found is None:
        return lower_document(doc, "config.yaml", "")
    experiments = []
    errors: list[Diagnostic] = []
    for combo in matrix.combinations("config", found):
        try:
            experiments.append(lower_document(doc, "config.yaml", "", combo.values))
        except ConfigError as exc:
            errors.extend(exc.diagnostics)
    if errors:
        raise ConfigError(errors)
    return experiments[0]


def lower_document(
    doc: Document,
    config_rel: str,
    data_prefix: str,
    matrix_values: dict[str, Any] | None = None,
) -> ir.Experiment | RLExperiment:
    """The front end (declarations, expressions, operators), schema validation, then lowering to the IR."""
    from plxgen.compiler.compat import normalise
    from plxgen.compiler.lower import lower
    from plxgen.compiler.front import render_document
    from plxgen.compiler.validate import validate

    doc, sources = render_document(doc, matrix_values)
    errors: list[Diagnostic] = []
    with passing_on_warnings(sources) as found:
        try:
            doc = normalise(doc)  # the 2017 vocabulary: renamed, ignored, nulls
            diagnostics = validate(doc)
            if diagnostics:
                raise ConfigError(diagnostics)
            experiment = lower(doc, config_rel, data_prefix)
        except ConfigError as exc:
            # Name each problem by the path the user wrote (`layers[0].for.do[0]`).
            errors = [
                replace(d, path=sources.get(d.path, d.path)) for d in exc.diagnostics
            ]
    errors += strict_errors(found)  # --strict: the warnings are errors too
    if errors:
        raise ConfigError(errors)
    return experiment


@contextmanager
def passing_on_warnings(sources: dict[str, str]) -> Iterator[list[Diagnostic]]:
    """Collect the warnings of a block, then pass them on (named by the paths the
    user wrote), also when it fails; the list holds them once the block is done."""
    found: list[Diagnostic] = []
    try:
        with collecting_warnings() as collector:
            yield found
    finally:
        found.extend(
            replace(d, path=sources.get(d.path, d.path)) for d in collector.found
        )
        if not strict_errors(found):  # under --strict they are errors instead
            for diagnostic in found:
                warn(diagnostic)


@dataclass(frozen=True)
class Output:
    """One file that `plxgen compile` writes: a script or a matrix index."""

    path: Path | None  # None: standard output
    text: str
    make_folder: bool = False  # whether writing may create the folder it goes in


@dataclass(frozen=True)
class Target:
    """Where one config's output goes: its script (None: stdout), or its folder if it has a matrix."""

    config: Path
    script: Path | None
    matrix_folder: Path | None
    make_folder: bool = False  # -o DIR/ or several configs: create DIR when missing
    launcher: str | None = (
        None  # --target: slurm | kubernetes, written beside the scripts
    )


def compile_config(config: Path, out: Path | None, sets: list[str]) -> str:
    """The complete script (header included) that `plxgen compile` writes for a config."""
    outputs = compile_target(Target(config, out, out), sets)
    if len(outputs) != 1:
        raise UserError(
            f"{comment(str(config))} has a matrix: it compiles to a folder of scripts",
            "pass the folder: -o DIR",
        )
    return outputs[0].text


def compile_target(
    target: Target,
    sets: list[str],
    cap: int | None = None,
    document: Document | None = None,
    workers: int | None = None,
) -> list[Output]:
    """Every file `plxgen compile` writes for one config: one script, or a matrix folder.

    `document`: the config already loaded and overridden (the Python API),
    instead of reading `target.config`. `workers`: how many processes compile
    a matrix's scripts (default: one a core; 1: this process alone).
    """
    from plxgen.compiler import matrix

    config = target.config
    doc = document or apply_overrides(read_config(config), sets)
    found = matrix.axes(doc, cap or matrix.MAX_COMBINATIONS)
    if found is None:
        out = target.script
        text = _script(doc, config, out, out.name if out else "train.py", sets)
        outputs = [Output(out, text, target.make_folder)]
        if target.launcher:
            if out is None:
                raise UserError(
                    "--target writes a launcher beside the script, not to stdout",
                    "pass the script: -o NAME.py",
                )
            outputs.append(_launcher(target, doc, out, [out.name], None, sets))
        return outputs
    folder = target.matrix_folder
    if folder is None:
        raise UserError(
            f"{comment(str(config))} has a matrix: it compiles to a folder of scripts, not to stdout",
            "pass the folder: -o DIR",
        )
    combos = matrix.combinations(stem(config), found)
    job = _job(doc, config, folder)
    outputs, errors = _matrix_scripts(job, folder, sets, combos, workers)
    if errors:
        raise ConfigError(errors)
    config_rel = _posix(
        os.path.relpath(os.path.abspath(config), os.path.abspath(folder))
    )
    outputs.append(
        Output(
            folder / matrix.INDEX_FILE,
            matrix.index_text(config_rel, found, combos),
            True,
        )
    )
    if target.launcher:
        scripts = [f"{combo.name}.py" for combo in combos]
        values = [combo.values for combo in combos]
        outputs.append(
            _launcher(target, doc, folder / matrix.INDEX_FILE, scripts, values, sets)
        )
    return outputs


def _launcher(
    target: Target,
    doc: Document,
    beside: Path,
    scripts: list[str],
    combos: list[dict[str, Any]] | None,
    sets: list[str],
) -> Output:
    """The launcher of `--target`, in the folder of `beside` (the script or matrix.json)."""
    from plxgen.compiler import launch
    from plxgen.compiler.write import with_header

    assert target.launcher is not None
    name = stem(target.config) if combos is not None else beside.stem
    folder = beside.parent
    config_rel = _posix(
        os.path.relpath(os.path.abspath(target.config), os.path.abspath(folder))
    )
    with passing_on_warnings({}) as warnings:
        found = launch.extract(
            doc, name, scripts, combos, posixpath.dirname(config_rel)
        )
        body = launch.render_launcher(found, target.launcher, doc)
    if errors := strict_errors(warnings):  # --strict: what a target cannot express
        raise ConfigError(errors)
    regenerate = "." if combos is not None else beside.name
    text = with_header(body, config_rel, regenerate, sets, target.launcher)
    path = folder / f"{name}{launch.TARGETS[target.launcher]}"
    return Output(path, text, True)


@dataclass(frozen=True)
class _Job:
    """What the scripts of one config in one folder share: the document, its paths
    relative to the folder, and whether the command is --strict and --no-cache."""

    doc: Document
    config_rel: str
    data_prefix: str
    strict: bool
    bypass_cache: bool

    def key(self, combo: Combination | None) -> str:
        """The cache's name of a body: a combination's values are part of it."""
        from plxgen.compiler import cache

        data = (self.doc.data, combo.values, combo.suffix) if combo else self.doc.data
        return cache.key(data, self.config_rel, self.data_prefix)


def _job(doc: Document, config: Path, folder: Path) -> _Job:
    from plxgen.compiler import cache

    script_dir = os.path.abspath(folder)
    config_abs = os.path.abspath(config)
    config_rel = _posix(os.path.relpath(config_abs, script_dir))
    data_prefix = _posix(os.path.relpath(os.path.dirname(config_abs), script_dir))
    with collecting_warnings() as nested:  # a nested collector inherits --strict
        strict = nested.strict
    return _Job(
        doc,
        config_rel,
        "" if data_prefix == "." else data_prefix,
        strict,
        not cache.enabled(),
    )


def _script(
    doc: Document,
    config: Path,
    out: Path | None,
    regenerate: str,
    sets: list[str],
) -> str:
    from plxgen.compiler import cache
    from plxgen.compiler.write import with_header

    job = _job(doc, config, out.parent if out else Path("."))
    # A valid document compiled before (same compiler): skip validation to black.
    name = job.key(None)
    body = cache.get(name)
    if body is None:
        body, warned = _body(job, None)
        if not warned:  # a script taken from the cache would skip its warnings
            cache.put(name, body)
    return with_header(body, job.config_rel, regenerate, sets)


def _body(job: _Job, combo: Combination | None) -> tuple[str, bool]:
    """Validate, lower, render and format one script's body; and whether it warned."""
    from plxgen.compiler.format import format_source
    from plxgen.compiler.render import render

    with passing_on_warnings({}) as warnings:
        experiment = lower_document(
            job.doc, job.config_rel, job.data_prefix, combo.values if combo else None
        )
    if combo is not None:
        from plxgen.compiler import matrix

        # Each combination trains in its own default model folder, and
        # records its values in config.json and in TensorBoard's HParams.
        experiment = replace(
            experiment,
            project=f"{experiment.project}-{combo.suffix}",
            resolved_config=matrix.recorded_config(
                experiment.resolved_config, combo.values
            ),
            hparams=matrix.hparams(combo.values),
        )
    return format_source(render(experiment)), bool(warnings)


def _matrix_scripts(
    job: _Job,
    folder: Path,
    sets: list[str],
    combos: list[Combination],
    workers: int | None,
) -> tuple[list[Output], list[Diagnostic]]:
    """Every combination's script, in order, and the errors of all of them.

    The cache is read here, and only the bodies it lacks are compiled (on all
    cores, where there are enough of them: `pool.compiled`). Their warnings are
    passed on here, in the order that compiling them one by one gives.
    """
    from plxgen.compiler import cache, pool
    from plxgen.compiler.write import with_header

    names = [job.key(combo) for combo in combos]
    bodies = [cache.get(name) for name in names]
    missing = [i for i, body in enumerate(bodies) if body is None]
    results = pool.compiled(job, [combos[i] for i in missing], workers)
    errors: list[Diagnostic] = []
    for i, result in zip(missing, results):
        for warning in result.warnings:
            warn(warning)
        errors.extend(result.errors)
        bodies[i] = result.body
        if result.body is not None and not result.warnings:
            cache.put(names[i], result.body)  # as in _script: none with warnings
    outputs = [
        Output(folder / f"{combo.name}.py", with_header(body, job.config_rel, ".", sets), True)
        for combo, body in zip(combos, bodies)
        if body is not None
    ]  # fmt: skip
    return outputs, errors


def stem(config: Path) -> str:
    """A config's file name without `.yaml` / `.yml`: the name of its script."""
    name = config.name
    for suffix in (".yaml", ".yml", ".json"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _posix(path: str) -> str:
    return posixpath.join(*path.split(os.sep)) if os.sep != "/" else path
