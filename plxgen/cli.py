"""Argument parsing only; maps errors to exit codes (0 ok, 1 check differs, 2 user error, 123 bug)."""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import Any

from plxgen import __version__
from plxgen.errors import (
    ConfigError,
    Diagnostic,
    UserError,
    collecting_warnings,
    make_strict,
    summary,
)

EXIT_OK, EXIT_DIFFERS, EXIT_USER, EXIT_BUG = 0, 1, 2, 123


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        """Command-line mistakes exit 2 with a hint, like every other user error."""
        self.print_usage(sys.stderr)
        raise UserError(message, f"run `{self.prog} --help` for the options")


def _path(text: str) -> Path:
    """A path argument; never empty (Path("") would be the current folder)."""
    if not text:
        raise argparse.ArgumentTypeError("an empty path is not a file or folder")
    if "\0" in text:
        raise argparse.ArgumentTypeError("a path cannot hold a NUL character")
    return Path(text)


def _path_text(text: str) -> str:
    """A path argument kept as written: `-o DIR/` (a folder) keeps its slash."""
    _path(text)
    return text


def _whole(text: str) -> int:
    """A whole-number argument."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _cap(text: str) -> int:
    """`--max-combinations N`: a whole number the compiler can hold that many scripts of."""
    from plxgen.compiler.matrix import MAX_CAP

    value = _whole(text)
    if not 1 <= value <= MAX_CAP:
        raise argparse.ArgumentTypeError(
            f"expected a number from 1 to {MAX_CAP}, got {text!r}"
        )
    return value


def _jobs(text: str) -> int:
    """`run -j N`: how many scripts at once, at least 1."""
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="plxgen",
        description="Compile experiment files into TensorFlow training scripts.",
    )
    parser.add_argument("--version", action="version", version=f"plxgen {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show a traceback for internal errors"
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="compile from scratch: neither read nor write the cache of compiled scripts "
        "(also PLXGEN_NO_CACHE=1)",
    )
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser
    )

    sets = {
        "action": "append",
        "default": [],
        "metavar": "PATH=VALUE",
        "help": "override one value (YAML)",
    }
    cap = {
        "type": _cap,
        "default": None,
        "metavar": "N",
        "help": "the most scripts a matrix may make (default: 256)",
    }
    target = {
        "choices": ["slurm", "kubernetes"],
        "default": None,
        "help": "also write what submits the scripts: NAME.sbatch (SLURM: a job, a job "
        "array for a matrix) or NAME.k8s.yaml (a Job, an Indexed Job, a TFJob for a cluster)",
    }
    compile_ = commands.add_parser(
        "compile", help="write the training script for a config"
    )
    compile_.add_argument(
        "configs",
        type=_path,
        nargs="+",
        metavar="CONFIG",
        help="one or more configs (a quoted glob such as 'exps/*.yaml' works too)",
    )
    compile_.add_argument(
        "-o",
        "--output",
        type=_path_text,
        help="the script to write (default: stdout); a folder for a matrix or several configs",
    )
    compile_.add_argument("--set", dest="sets", **sets)  # type: ignore[arg-type]
    compile_.add_argument(
        "--force",
        action="store_true",
        help="overwrite a file plxgen did not write, or one edited since",
    )
    compile_.add_argument("--max-combinations", **cap)  # type: ignore[arg-type]
    compile_.add_argument("--target", **target)  # type: ignore[arg-type]
    _strict(compile_)

    check = commands.add_parser(
        "check", help="exit 1 with a diff if OUT is not what compile would write"
    )
    check.add_argument("configs", type=_path, nargs="+", metavar="CONFIG")
    check.add_argument("-o", "--output", type=_path_text, required=True)
    check.add_argument("--set", dest="sets", **sets)  # type: ignore[arg-type]
    check.add_argument("--max-combinations", **cap)  # type: ignore[arg-type]
    check.add_argument("--target", **target)  # type: ignore[arg-type]
    _strict(check)

    validate = commands.add_parser(
        "validate", help="report every problem in configs; write nothing"
    )
    validate.add_argument("configs", type=_path, nargs="+")
    validate.add_argument("--set", dest="sets", **sets)  # type: ignore[arg-type]
    validate.add_argument("--max-combinations", **cap)  # type: ignore[arg-type]
    _strict(validate)

    commands.add_parser("schema", help="print the JSON Schema of the experiment file")

    data = commands.add_parser(
        "data",
        help="write a dataset as TFRecords + meta_data.json",
        description="Convert a dataset into NAME_train/eval[/predict].tfrecord "
        "and meta_data.json (TF-slim layout), then print on stdout the train and eval "
        "data_pipeline blocks that read them.",
    )
    data.add_argument(
        "kind",
        help="digits (no SOURCE), mnist DIR (IDX files), cifar10 DIR|TAR.GZ, "
        "images DIR (a folder per class), npz FILE, csv FILE",
    )
    data.add_argument(
        "source", nargs="?", help="where the source data is (not for digits)"
    )
    data.add_argument(
        "-o", "--output", type=_path, required=True, help="the folder to write"
    )
    data.add_argument(
        "--eval-fraction",
        type=float,
        help="share of examples for eval (default: 0.2; mnist and cifar10 keep "
        "the 2017 split unless this or --seed is given)",
    )
    data.add_argument("--seed", type=int, help="seed of the split (default: 0)")
    data.add_argument(
        "--name", help="file name prefix: NAME_train.tfrecord, ... (default: KIND)"
    )
    data.add_argument(
        "--label", metavar="COLUMN", help="csv: the label column (default: the last)"
    )
    data.add_argument(
        "--label-type",
        choices=["auto", "class", "float"],
        default="auto",
        help="csv, npz: class ids or float values (default: auto, whole numbers are "
        "classes when few: at most 20 distinct values, under 5%% of the rows)",
    )
    data.add_argument(
        "--delimiter", default=",", help="csv: the field separator (default: ,)"
    )
    data.add_argument(
        "--force", action="store_true", help="overwrite an existing dataset"
    )
    data.add_argument(
        "--config-dir",
        type=_path,
        metavar="DIR",
        help="the folder of the experiment file the printed blocks go into: their "
        "paths are relative to it (default: the current folder)",
    )
    results = commands.add_parser(
        "results",
        help="one row per finished run under DIR: its values, step and eval metrics",
        description="Find every finished run under DIR (a folder with metrics.json) and "
        "print the run folder, the combination's values (from its config.json when a "
        "matrix made it), global_step and the eval metrics.",
    )
    results.add_argument("folder", type=_path, metavar="DIR")
    results.add_argument(
        "--format",
        choices=["table", "csv", "json"],
        default="table",
        help="aligned text, CSV, or a JSON list of objects (default: table)",
    )
    results.add_argument(
        "--sort",
        metavar="METRIC",
        help="order the runs by an eval metric, a value of the matrix or global_step "
        "(ascending; runs without it last)",
    )
    results.add_argument(
        "--reverse", action="store_true", help="with --sort: descending"
    )

    run = commands.add_parser(
        "run",
        help="run a compiled sweep's scripts here, N at a time; a rerun resumes it",
        description="Run each script of OUT/matrix.json (a folder `compile` wrote for a "
        "matrix) with this Python and --model-dir RUNS/NAME, its output in "
        "RUNS/NAME/run.log; runs that finished (metrics.json) are skipped, the others "
        "resume from their newest checkpoint. Ctrl-C or SIGTERM stops every run with a "
        "checkpoint. Then prints the `results` table of RUNS. Exit 1 if a run failed.",
    )
    run.add_argument(
        "folder",
        type=_path,
        metavar="OUT",
        help="the folder `plxgen compile SWEEP.yaml -o OUT/` wrote for a matrix",
    )
    run.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        metavar="N",
        help="how many scripts run at once (default: settings.concurrent_experiments "
        "of the sweep's config, else 1)",
    )
    run.add_argument(
        "--runs",
        type=_path,
        metavar="DIR",
        help="the folder of the run folders (default: OUT/runs)",
    )
    hook = commands.add_parser(
        "hook",
        help="check or regenerate the scripts of changed files (pre-commit, CI)",
        description="Pair each FILE with its generated script (the script's header names "
        "its config; a new NAME.yaml pairs with NAME.py) and check or regenerate it. "
        "Without FILEs: every generated script under the current folder.",
    )
    hook.add_argument("action", choices=["check", "compile"])
    hook.add_argument("files", type=_path, nargs="*", metavar="FILE")
    init = commands.add_parser(
        "init",
        help="write a starter experiment file with the editor's schema line",
    )
    init.add_argument(
        "name",
        nargs="?",
        default="experiment",
        help="NAME.yaml to write; NAME is the project (default: experiment)",
    )
    init.add_argument(
        "--schema",
        metavar="URL",
        help="the $schema the file points at (default: write experiment.schema.json beside it)",
    )
    init.add_argument("--force", action="store_true", help="overwrite NAME.yaml")
    upgrade = commands.add_parser(
        "upgrade",
        help="rewrite older 2017 spellings into the canonical form, keeping comments",
        description="Show the diff that brings each FILE to the canonical spelling "
        "(exit 1 when there is one); with --write, rewrite the files in place.",
    )
    upgrade.add_argument("files", type=_path, nargs="+", metavar="FILE")
    upgrade.add_argument(
        "-i", "--write", action="store_true", help="rewrite the files in place"
    )
    explain = commands.add_parser(
        "explain",
        help="print the model as a table of layers (needs TensorFlow); --png draws it",
    )
    explain.add_argument(
        "configs",
        type=_path,
        nargs="+",
        metavar="CONFIG",
        help="one or more configs (a matrix: each combination's model)",
    )
    explain.add_argument("--set", dest="sets", **sets)  # type: ignore[arg-type]
    explain.add_argument("--png", type=_path, metavar="FILE", help="also draw the graph")
    explain.add_argument(
        "--input-shape",
        metavar="H,W,C",
        help="the shape of the model's inputs (the image, a CSV's x), instead of reading the train data",
    )
    return parser


def _strict(command: argparse.ArgumentParser) -> None:
    """--strict and its spelling -W error: warnings are errors (exit 2)."""
    command.add_argument(
        "--strict",
        action="store_true",
        help="treat warnings as errors (exit 2); also -W error",
    )
    command.add_argument(
        "-W",
        dest="warnings",
        choices=["error"],
        help=argparse.SUPPRESS,
    )


def _show(path: Path) -> str:
    """A path as one line of a message (control characters escaped)."""
    from plxgen.compiler.literals import comment

    return comment(str(path))


def _redirected_file() -> Path | None:
    """The regular file stdout goes to (`> train.py`), where the system says which."""
    import os

    try:
        fd = sys.stdout.fileno()
        opened = os.fstat(fd)
        path = os.readlink(f"/proc/self/fd/{fd}")  # Linux; elsewhere: not known
        named = os.stat(path)
    except (OSError, ValueError, AttributeError):
        return None
    same = (opened.st_dev, opened.st_ino) == (named.st_dev, named.st_ino)
    return Path(os.path.relpath(path)) if same and path.endswith(".py") else None


def _compile(args: argparse.Namespace) -> int:
    from plxgen.compiler.outputs import compile_all, write_all

    redirected = _redirected_file() if args.output is None else None
    if redirected is not None:
        # `compile x.yaml > x.py` writes the script `compile x.yaml -o x.py` would
        # (its header, its paths), so that `check x.yaml -o x.py` agrees with it.
        args.output = redirected
        outputs, _ = compile_all(_targets(args), args.sets, args.max_combinations)
        if [output.path for output in outputs] == [redirected]:
            sys.stdout.write(outputs[0].text)
            return EXIT_OK
        args.output = None  # several scripts (a matrix): as without the redirection
    outputs, stale = compile_all(_targets(args), args.sets, args.max_combinations)
    if len(outputs) == 1 and outputs[0].path is None:
        sys.stdout.write(outputs[0].text)
        return EXIT_OK
    for path in write_all(outputs, stale, args.force):
        print(f"wrote {_show(path)}", file=sys.stderr)
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from plxgen.compiler import cache

    # The CI gate compiles from scratch: a cache entry never decides what passes.
    with cache.bypassed():
        return _checked(args)


def _checked(args: argparse.Namespace) -> int:
    from plxgen.compiler.outputs import check_all

    return (
        EXIT_DIFFERS
        if check_all(_targets(args), args.sets, args.max_combinations)
        else EXIT_OK
    )


def _targets(args: argparse.Namespace) -> list[Any]:
    import os

    from plxgen.compiler.outputs import targets

    out = args.output
    # `-o DIR/` names a folder even before it exists (a Path drops the slash).
    folder = isinstance(out, str) and out.endswith(("/", os.sep))
    out = Path(out) if out is not None else None
    return targets(args.configs, out, args.target, folder=folder)


def _validate(args: argparse.Namespace) -> int:
    from plxgen.compiler import apply_overrides, check, read_config
    from plxgen.compiler.outputs import expand

    diagnostics = []
    for config in expand(args.configs):
        try:
            check(
                apply_overrides(read_config(config), args.sets), args.max_combinations
            )
        except ConfigError as exc:
            diagnostics.extend(exc.diagnostics)
    if diagnostics:
        raise ConfigError(diagnostics)
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    from plxgen.compiler.validate import editor_schema_text

    sys.stdout.write(editor_schema_text())
    return EXIT_OK


def _data(args: argparse.Namespace) -> int:
    try:
        return _make_data(args)
    except ModuleNotFoundError as exc:
        # Only the compiler is installed: numpy, scikit-learn, Pillow come with the extra.
        if (exc.name or "").partition(".")[0] in ("", "plxgen"):
            raise
        raise UserError(
            f"`plxgen data` needs {exc.name}, which is not installed",
            'install the training extra: pip install "plxgen[train]"',
        ) from None


def _make_data(args: argparse.Namespace) -> int:
    from plxgen.data.blocks import blocks_yaml
    from plxgen.data.datasets import make_dataset

    paths = make_dataset(
        args.kind,
        args.source,
        args.output,
        eval_fraction=args.eval_fraction,
        seed=args.seed,
        force=args.force,
        name=args.name,
        label=args.label,
        label_type=args.label_type,
        delimiter=args.delimiter,
        progress=sys.stderr,
    )
    for path in paths:
        print(f"wrote {_show(path)}", file=sys.stderr)
    config_dir = args.config_dir or Path.cwd()
    where = "this folder" if args.config_dir is None else _show(config_dir)
    print(
        "the data_pipeline blocks that read it follow on stdout: paste the train block "
        "under `train: data_pipeline:` and the eval block under `eval: data_pipeline:` "
        f"of an experiment file in {where} (a config's paths are relative to its "
        "folder: --config-dir DIR prints them for a file in DIR); num_epochs: 1 is one "
        "pass over the data, which ends training even before train_steps",
        file=sys.stderr,
    )
    sys.stdout.write(blocks_yaml(paths, config_dir))
    return EXIT_OK


def _results(args: argparse.Namespace) -> int:
    from plxgen.commands.results import find_runs, render, sort_runs

    skipped: list[str] = []
    runs = find_runs(args.folder, sys.stderr, skipped)
    if args.sort is not None:
        runs = sort_runs(runs, args.sort, args.reverse)
    if not runs:
        why = (
            f"{len(skipped)} metrics.json skipped, see above"
            if skipped
            else "no metrics.json"
        )
        print(f"no finished runs ({why}) under {_show(args.folder)}", file=sys.stderr)
        if args.format == "table":
            return EXIT_OK  # a table of no rows is only its header
    sys.stdout.write(render(runs, args.format))
    return EXIT_OK


def _run_sweep(args: argparse.Namespace) -> int:
    from plxgen.commands.results import find_runs, render
    from plxgen.commands.run import run_sweep

    outcome = run_sweep(args.folder, args.jobs, args.runs, sys.stderr)
    if outcome.signal is not None:
        return 128 + outcome.signal  # 130 for SIGINT, 143 for SIGTERM
    runs = find_runs(outcome.runs, sys.stderr) if outcome.runs.is_dir() else []
    if runs:
        sys.stdout.write(render(runs, "table"))
    return EXIT_DIFFERS if outcome.failed else EXIT_OK  # 1: a run failed


def _hook(args: argparse.Namespace) -> int:
    from plxgen.commands.hooks import report, run_hook
    from plxgen.compiler import cache

    # `hook check` is a CI gate too: compiled from scratch, like `check`.
    with cache.bypassed(args.action == "check"):
        outcome = run_hook(args.action, args.files, Path("."))
    print(report(outcome, args.action), file=sys.stderr)
    if outcome.diagnostics or outcome.problems:
        return EXIT_USER
    return EXIT_DIFFERS if outcome.stale or outcome.written else EXIT_OK


def _init(args: argparse.Namespace) -> int:
    from plxgen.commands.init import init

    written = init(args.name, args.schema, args.force)
    for path in written:
        print(f"wrote {_show(path)}", file=sys.stderr)
    print(f"next: see the first lines of {_show(written[0])}", file=sys.stderr)
    return EXIT_OK


def _upgrade(args: argparse.Namespace) -> int:
    from plxgen.commands.upgrade import upgrade_file

    changed = [upgrade_file(path, args.write) for path in args.files]
    return EXIT_DIFFERS if any(changed) and not args.write else EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    from plxgen.commands.explain import draw, parse_shape, summarize_all, table
    from plxgen.compiler.outputs import expand

    shape = parse_shape(args.input_shape) if args.input_shape is not None else None
    configs = expand(args.configs)
    if args.png is not None and len(configs) > 1:
        raise UserError("--png draws one model", "explain one config with it")
    found = summarize_all(configs, args.sets, shape, args.png)
    if args.png is not None and len(found) > 1:
        raise UserError("--png draws one model", "explain one config without a matrix")
    if len(found) == 1:
        ((_, summary, problem),) = found
        if summary is None:
            raise UserError(problem)
        sys.stdout.write(table(summary))
        if args.png is not None:
            if not summary.drawn:
                draw(summary, args.png)
            print(f"wrote {_show(args.png)}", file=sys.stderr)
        return EXIT_OK
    failed = shown = 0
    for title, summary, problem in found:
        if summary is None:
            failed += 1
            _stderr(UserError(f"{title}: {problem}").format())
            continue
        sys.stdout.write(("\n" if shown else "") + f"{title}:\n" + table(summary))
        shown += 1
    return EXIT_USER if failed else EXIT_OK


_COMMANDS = {
    "compile": _compile,
    "check": _check,
    "validate": _validate,
    "schema": _schema,
    "data": _data,
    "results": _results,
    "run": _run_sweep,
    "hook": _hook,
    "init": _init,
    "upgrade": _upgrade,
    "explain": _explain,
}


def main(argv: list[str] | None = None) -> int:
    """Run the plxgen command line; returns the exit code."""
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    warnings: list[Diagnostic] = []
    try:
        with collecting_warnings() as collector:
            warnings = collector.found
            code = _run(argv)
        _report(warnings)
        sys.stdout.flush()  # a full disk or a closed pipe shows here, not at exit
        return code
    except ConfigError as exc:
        _report([*exc.diagnostics, *warnings])
        return EXIT_USER
    except UserError as exc:
        _stderr(exc.format())
        return EXIT_USER
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        # The environment, not plxgen: a closed pipe, a full disk, a name too long.
        return _os_error(exc)
    except Exception:  # noqa: BLE001 - the last resort: never a bare traceback
        if debug:
            traceback.print_exc()
        else:
            _stderr(
                f"plxgen: internal error (a bug in plxgen {__version__}); rerun with --debug for the traceback "
                "and report it"
            )
        return EXIT_BUG


def _report(diagnostics: list[Diagnostic]) -> None:
    """Every error and warning, in file order, then the summary line."""
    if not diagnostics:
        return
    for diagnostic in sorted(set(diagnostics)):
        _stderr(diagnostic.format())
    _stderr(summary(diagnostics))


def _run(argv: list[str] | None) -> int:
    args = _parser().parse_args(argv)
    if getattr(args, "strict", False) or getattr(args, "warnings", None) == "error":
        make_strict()
    if args.no_cache:
        from plxgen.compiler import cache

        with cache.bypassed():
            return _COMMANDS[args.command](args)
    return _COMMANDS[args.command](args)


def _stderr(text: str) -> None:
    try:
        print(text, file=sys.stderr)
    except (OSError, ValueError):
        pass  # stderr itself is gone: nowhere left to say it


def _os_error(exc: OSError) -> int:
    """Exit 2 with one line for an OSError from the environment (never a traceback)."""
    import errno
    import os

    stdout = exc.filename is None and exc.errno in (
        errno.EPIPE, errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EBADF
    )
    if isinstance(exc, BrokenPipeError) or stdout:
        # stdout is closed (`| head`) or cannot be written (`>/dev/full`): point it
        # at /dev/null so that the interpreter's own flush at exit stays quiet.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass
        if isinstance(exc, BrokenPipeError) or exc.errno == errno.EPIPE:
            return EXIT_USER  # the reader went away: nothing to tell it
        _stderr(f"plxgen: error: cannot write to standard output: {exc.strerror or exc}")
        return EXIT_USER
    where = f" {exc.filename}" if exc.filename is not None else ""
    _stderr(UserError(f"cannot use{where}: {exc.strerror or exc}").format())
    return EXIT_USER
