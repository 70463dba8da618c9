"""Several configs and matrix folders: where outputs go, writing them all, checking them all."""

from __future__ import annotations

import glob
import os
import sys
from pathlib import Path

from plxgen.compiler import Output, Target, compile_target, stem
from plxgen.errors import ConfigError, Diagnostic, UserError
from plxgen.literals import comment
from plxgen.matrix import INDEX_FILE, is_index
from plxgen.write import MAX_SCRIPT_BYTES, check_overwrite, diff, state, write_atomic

_GLOB = set("*?[")


def _show(path: Path) -> str:
    return comment(str(path))


def expand(configs: list[Path]) -> list[Path]:
    """The command line's configs, a quoted glob pattern expanded (sorted)."""
    result: list[Path] = []
    for config in configs:
        text = str(config)
        if not config.exists() and _GLOB & set(text):
            found = sorted(glob.glob(text))
            if not found:
                raise UserError(f"no file matches {_show(config)}")
            result.extend(Path(p) for p in found)
        else:
            result.append(config)
    return result


def _is_folder(out: Path) -> bool:
    return out.is_dir() or str(out).endswith(("/", os.sep))


def targets(configs: list[Path], out: Path | None) -> list[Target]:
    """Where each config's output goes.

    One config: `-o FILE` (or stdout) for a script, `-o DIR` for a matrix
    (and `-o DIR/` puts a script in DIR as `STEM.py`). Several configs need
    `-o DIR`: `DIR/STEM.py` each, a matrix in `DIR/STEM/`.
    """
    configs = expand(configs)
    if len(configs) == 1:
        (config,) = configs
        if out is not None and _is_folder(out):
            return [Target(config, out / f"{stem(config)}.py", out, True)]
        return [Target(config, out, out)]
    if out is None:
        raise UserError(
            f"{len(configs)} configs compile to a folder", "pass the folder: -o DIR"
        )
    if out.exists() and not out.is_dir():
        raise UserError(f"{_show(out)} is a file; several configs compile to a folder")
    seen: dict[str, Path] = {}
    result = []
    for config in configs:
        name = stem(config)
        if name in seen:
            raise UserError(
                f"{_show(seen[name])} and {_show(config)} would both compile to {name}.py",
                "compile them into different folders",
            )
        seen[name] = config
        result.append(Target(config, out / f"{name}.py", out / name, True))
    return result


def compile_all(
    plan: list[Target], sets: list[str], cap: int | None
) -> tuple[list[Output], list[Path]]:
    """Every output of every config (all diagnostics of all configs at once), and the
    scripts in matrix folders that compile would now remove (their combination is gone).
    """
    outputs: list[Output] = []
    errors: list[Diagnostic] = []
    for target in plan:
        try:
            outputs.extend(compile_target(target, sets, cap))
        except ConfigError as exc:
            errors.extend(exc.diagnostics)
    if errors:
        raise ConfigError(errors)
    return outputs, _leftovers(outputs)


def _leftovers(outputs: list[Output]) -> list[Path]:
    expected = {o.path for o in outputs}
    stale = []
    for output in outputs:
        if output.path is None or output.path.name != INDEX_FILE:
            continue
        folder = output.path.parent
        if not folder.is_dir():
            continue
        for script in sorted(folder.glob("*.py")):
            if script not in expected and state(_read(script, 4096)) != "foreign":
                stale.append(script)
    return stale


def _read(path: Path, limit: int = MAX_SCRIPT_BYTES) -> str:
    try:
        with open(path, "rb") as f:  # bounded: a path may be a device or huge
            return f.read(limit).decode("utf-8", errors="replace")
    except OSError:
        return ""


def write_all(outputs: list[Output], stale: list[Path], force: bool) -> list[Path]:
    """Check every path first, then write them all (atomically each) and remove leftovers."""
    for output in outputs:
        assert output.path is not None
        folder = output.path.parent
        if folder.exists() and not folder.is_dir():
            raise UserError(f"{_show(folder)} is a file, not a folder")
        if output.path.name == INDEX_FILE:
            if output.path.exists() and not force and not is_index(_read(output.path)):
                raise UserError(
                    f"{_show(output.path)} exists and was not written by plxgen; not overwriting",
                    "pass --force to overwrite it",
                )
        else:
            check_overwrite(output.path, force)
    for path in stale:
        if not force and state(_read(path)) != "generated":
            raise UserError(
                f"{_show(path)} is left from an earlier matrix and was edited since; not removing it",
                "pass --force to remove it",
            )
    written = []
    for output in outputs:
        assert output.path is not None
        try:
            if output.make_folder:
                output.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(
                f"cannot create {_show(output.path.parent)}: {exc.strerror or exc}"
            ) from None
        write_atomic(output.path, output.text)
        written.append(output.path)
    for path in stale:
        try:
            path.unlink()
        except OSError as exc:
            raise UserError(
                f"cannot remove {_show(path)}: {exc.strerror or exc}"
            ) from None
        print(
            f"removed {_show(path)} (its combination left the matrix)", file=sys.stderr
        )
    return written


def check_all(plan: list[Target], sets: list[str], cap: int | None) -> bool:
    """Print a diff per file that differs from what compile would write; True if any does."""
    outputs, extra = compile_all(plan, sets, cap)
    missing = stale = 0
    for output in outputs:
        assert output.path is not None
        try:
            with open(
                output.path, encoding="utf-8"
            ) as f:  # bounded: OUT may be a device
                actual = f.read(MAX_SCRIPT_BYTES)
        except FileNotFoundError:
            missing += 1
            sys.stdout.write(diff("", output.text, _show(output.path)))
            print(
                f"{_show(output.path)}: missing; run: {_command(plan, output)}",
                file=sys.stderr,
            )
            continue
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise UserError(f"cannot read {_show(output.path)}: {reason}") from None
        if actual != output.text:
            stale += 1
            sys.stdout.write(diff(actual, output.text, _show(output.path)))
            print(
                f"{_show(output.path)}: stale or edited; run: {_command(plan, output)}",
                file=sys.stderr,
            )
    for path in extra:
        sys.stdout.write(diff(_read(path), "", _show(path)))
        print(
            f"{_show(path)}: not part of the matrix any more; compile removes it",
            file=sys.stderr,
        )
    total = len(outputs) + len(extra)
    if total > 1:
        problems = [
            f"{n} {what}"
            for n, what in (
                (stale, "stale"),
                (missing, "missing"),
                (len(extra), "extra"),
            )
            if n
        ]
        ok = len(outputs) - stale - missing
        print(
            f"checked {len(outputs)} files: {ok} up to date"
            + ("; " + ", ".join(problems) if problems else ""),
            file=sys.stderr,
        )
    return bool(missing or stale or extra)


def _command(plan: list[Target], output: Output) -> str:
    """The compile command that rewrites this output."""
    assert output.path is not None
    for target in plan:
        if output.path == target.script:
            return f"plxgen compile {_show(target.config)} -o {_show(output.path)}"
        if (
            target.matrix_folder is not None
            and output.path.parent == target.matrix_folder
        ):
            return f"plxgen compile {_show(target.config)} -o {_show(target.matrix_folder)}"
    return "plxgen compile"
