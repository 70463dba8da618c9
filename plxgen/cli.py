"""Argument parsing only; maps errors to exit codes (0 ok, 1 check differs, 2 user error, 123 bug)."""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from plxgen import __version__
from plxgen.errors import ConfigError, UserError

EXIT_OK, EXIT_DIFFERS, EXIT_USER, EXIT_BUG = 0, 1, 2, 123


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        """Command-line mistakes exit 2 with a hint, like every other user error."""
        self.print_usage(sys.stderr)
        raise UserError(message, f"run `{self.prog} --help` for the options")


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
    compile_ = commands.add_parser(
        "compile", help="write the training script for a config"
    )
    compile_.add_argument("config", type=Path)
    compile_.add_argument(
        "-o", "--output", type=Path, help="the script to write (default: stdout)"
    )
    compile_.add_argument("--set", dest="sets", **sets)  # type: ignore[arg-type]
    compile_.add_argument(
        "--force",
        action="store_true",
        help="overwrite a file plxgen did not write, or one edited since",
    )

    check = commands.add_parser(
        "check", help="exit 1 with a diff if OUT is not what compile would write"
    )
    check.add_argument("config", type=Path)
    check.add_argument("-o", "--output", type=Path, required=True)
    check.add_argument("--set", dest="sets", **sets)  # type: ignore[arg-type]

    validate = commands.add_parser(
        "validate", help="report every problem in configs; write nothing"
    )
    validate.add_argument("configs", type=Path, nargs="+")
    validate.add_argument("--set", dest="sets", **sets)  # type: ignore[arg-type]

    commands.add_parser("schema", help="print the JSON Schema of the experiment file")

    data = commands.add_parser(
        "data", help="write a dataset as TFRecords + meta_data.json"
    )
    data.add_argument("kind", help="digits")
    data.add_argument(
        "source", nargs="?", help="where the source data is (not for digits)"
    )
    data.add_argument(
        "-o", "--output", type=Path, required=True, help="the folder to write"
    )
    data.add_argument(
        "--eval-fraction",
        type=float,
        default=0.2,
        help="share of examples for eval (default: 0.2)",
    )
    data.add_argument(
        "--seed", type=int, default=0, help="seed of the split (default: 0)"
    )
    data.add_argument(
        "--name", help="file name prefix: NAME_train.tfrecord, ... (default: KIND)"
    )
    data.add_argument(
        "--force", action="store_true", help="overwrite an existing dataset"
    )
    return parser


def _show(path: Path) -> str:
    """A path as one line of a message (control characters escaped)."""
    from plxgen.literals import comment

    return comment(str(path))


def _compile(args: argparse.Namespace) -> int:
    from plxgen.compiler import compile_config
    from plxgen.write import check_overwrite, write_atomic

    if args.output is not None:
        check_overwrite(args.output, args.force)
    text = compile_config(args.config, args.output, args.sets)
    if args.output is None:
        sys.stdout.write(text)
    else:
        write_atomic(args.output, text)
        print(f"wrote {_show(args.output)}", file=sys.stderr)
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from plxgen.compiler import compile_config
    from plxgen.write import MAX_SCRIPT_BYTES, diff

    expected = compile_config(args.config, args.output, args.sets)
    try:
        with open(args.output, encoding="utf-8") as f:  # bounded: OUT may be a device
            actual = f.read(MAX_SCRIPT_BYTES)
    except FileNotFoundError:
        sys.stdout.write(diff("", expected, _show(args.output)))
        print(
            f"{_show(args.output)}: missing; run: plxgen compile {_show(args.config)} -o {_show(args.output)}",
            file=sys.stderr,
        )
        return EXIT_DIFFERS
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise UserError(f"cannot read {_show(args.output)}: {reason}") from None
    if actual == expected:
        return EXIT_OK
    sys.stdout.write(diff(actual, expected, _show(args.output)))
    print(
        f"{_show(args.output)}: stale or edited; run: plxgen compile {_show(args.config)} -o {_show(args.output)}",
        file=sys.stderr,
    )
    return EXIT_DIFFERS


def _validate(args: argparse.Namespace) -> int:
    from plxgen.compiler import apply_overrides, check, read_config

    diagnostics = []
    for config in args.configs:
        try:
            check(apply_overrides(read_config(config), args.sets))
        except ConfigError as exc:
            diagnostics.extend(exc.diagnostics)
    if diagnostics:
        raise ConfigError(diagnostics)
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    from plxgen.validate import schema_text

    sys.stdout.write(schema_text())
    return EXIT_OK


def _data(args: argparse.Namespace) -> int:
    from plxgen.datasets import make_dataset

    for path in make_dataset(
        args.kind,
        args.source,
        args.output,
        eval_fraction=args.eval_fraction,
        seed=args.seed,
        force=args.force,
        name=args.name,
    ):
        print(f"wrote {path}", file=sys.stderr)
    return EXIT_OK


_COMMANDS = {
    "compile": _compile,
    "check": _check,
    "validate": _validate,
    "schema": _schema,
    "data": _data,
}


def main(argv: list[str] | None = None) -> int:
    """Run the plxgen command line; returns the exit code."""
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(argv)
        if args.no_cache:
            from plxgen import cache

            with cache.bypassed():
                return _COMMANDS[args.command](args)
        return _COMMANDS[args.command](args)
    except ConfigError as exc:
        for diagnostic in exc.diagnostics:
            print(diagnostic.format(), file=sys.stderr)
        count = len(exc.diagnostics)
        print(f"{count} error{'s' if count != 1 else ''}", file=sys.stderr)
        return EXIT_USER
    except UserError as exc:
        print(exc.format(), file=sys.stderr)
        return EXIT_USER
    except KeyboardInterrupt:
        return 130
    except Exception:  # noqa: BLE001 - the last resort: never a bare traceback
        if debug:
            traceback.print_exc()
        else:
            print(
                f"plxgen: internal error (a bug in plxgen {__version__}); rerun with --debug for the traceback "
                "and report it",
                file=sys.stderr,
            )
        return EXIT_BUG
