"""Shared test options and helpers.

`pytest --update-goldens` rewrites every golden file. The helpers below are the
one way tests run things: `plxgen` runs the command line in a child process,
`train` runs a generated script in one, `start_plxgen`/`start_train` start them
without waiting (for races, signals and clusters) and `finished` waits for
those; `import_script` imports a generated script into this process, and
`train_here` runs its `main` there as `train` runs the file.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Iterator, Mapping, Sequence

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run (a test that passes or
# fails by chance is a defect); `HYPOTHESIS_PROFILE=explore` draws new ones.
settings.register_profile("default", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Every child process gets these on top of its environment: TensorFlow's C++
# start-up chatter stays out of the stderr that tests read.
QUIET = {"TF_CPP_MIN_LOG_LEVEL": "2"}


@contextlib.contextmanager
def hang_guard(seconds: int) -> Iterator[None]:
    """Fail the block with TimeoutError once it has run `seconds` (SIGALRM).

    A guard against hangs (an exponential blow-up, a blocked read), not a speed
    target: the bound is far above any normal run, and a slow machine never
    trips it.
    """

    def hung(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s: hung")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite generated_examples/*.py and tests/broken/*.err from the current compiler",
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


def compare_golden(path: Path, actual: str, update: bool) -> None:
    """Assert a golden file equals `actual`, or rewrite it with --update-goldens."""
    if update:
        path.write_text(actual, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8") if path.exists() else ""
    if actual != expected:
        import difflib

        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                str(path),
                "compiled",
            )
        )
        pytest.fail(
            f"{path} is stale; review the diff, then run `pytest --update-goldens`:\n{diff[:6000]}"
        )


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The compile cache of a test run lives in its own folder, never the user's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        patch.delenv("PLXGEN_NO_CACHE", raising=False)
        yield


# ------------------------------------------------------------ child processes


def _environment(env: Mapping[str, str] | None, inherit_env: bool) -> dict[str, str]:
    """os.environ (or nothing), then QUIET, then `env`."""
    return {**(os.environ if inherit_env else {}), **QUIET, **(env or {})}


def _start(
    argv: Sequence[str | Path],
    cwd: str | Path | None,
    env: Mapping[str, str] | None,
    inherit_env: bool,
    merge_stderr: bool,
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(arg) for arg in argv],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        encoding="utf-8",
        env=_environment(env, inherit_env),
    )


def finished(
    process: subprocess.Popen[str], timeout: float = 600, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """Wait for a started process and return what it printed.

    Past `timeout` seconds the process is killed and the test fails with the
    end of its output; with `check`, a non-zero exit fails the test the same way.
    (With merged output, `stderr` is None and everything is in `stdout`.)
    """
    command = shlex.join(str(arg) for arg in process.args)  # type: ignore[union-attr]
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        pytest.fail(f"`{command}` ran past {timeout}s:\n{(stderr or stdout)[-3000:]}")
    if check and process.returncode != 0:
        pytest.fail(
            f"`{command}` exited {process.returncode}:\n{(stderr or stdout)[-3000:]}"
        )
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def start_plxgen(
    *args: str | Path,
    cwd: str | Path = ROOT,
    env: Mapping[str, str] | None = None,
    inherit_env: bool = True,
) -> subprocess.Popen[str]:
    """Start `python -m plxgen ARGS` in `cwd` without waiting; see `plxgen`."""
    return _start([sys.executable, "-m", "plxgen", *args], cwd, env, inherit_env, False)


def plxgen(
    *args: str | Path,
    cwd: str | Path = ROOT,
    env: Mapping[str, str] | None = None,
    inherit_env: bool = True,
    timeout: float = 300,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m plxgen ARGS` in `cwd`; stdout and stderr come back as UTF-8 text.

    The child's environment is this one (none with `inherit_env=False`), plus
    QUIET, plus `env`. Past `timeout` seconds the test fails; with `check`, so
    does a non-zero exit. Otherwise the caller asserts on `returncode`.
    """
    process = start_plxgen(*args, cwd=cwd, env=env, inherit_env=inherit_env)
    return finished(process, timeout, check)


def start_train(
    script: str | Path,
    *args: str | Path,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    merge_stderr: bool = False,
) -> subprocess.Popen[str]:
    """Start `python SCRIPT ARGS` without waiting; see `train`.

    `merge_stderr` sends stderr into stdout (one stream, in the order printed).
    """
    if cwd is None:
        script = Path(script).absolute()
        cwd = script.parent
    return _start([sys.executable, script, *args], cwd, env, True, merge_stderr)


def train(
    script: str | Path,
    *args: str | Path,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run a generated script, `python SCRIPT ARGS`, in `cwd` (default: the script's folder).

    The environment is this one plus QUIET plus `env`; stdout and stderr come
    back as UTF-8 text. Past `timeout` seconds the test fails; with `check`, so
    does a non-zero exit. A relative `script` is relative to `cwd`.
    """
    process = start_train(script, *args, cwd=cwd, env=env)
    return finished(process, timeout, check)


def import_script(script: Path) -> ModuleType:
    """Import a generated script as a module (its `main` does not run)."""
    spec = importlib.util.spec_from_file_location(f"generated_{script.stem}", script)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def train_here(
    script: str | Path,
    *args: str | Path,
    cwd: str | Path | None = None,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run a generated script's `main(ARGS)` in this process, as `train` runs the file.

    What `python SCRIPT ARGS` would print to stderr comes back as `stderr`: the
    lines the script prints and logs (in its log format), whatever pytest does
    with logging. TensorFlow is imported once per test process, not once per
    run: for runs that need no process of their own (no signal, no strategy of
    several workers, no look at TensorFlow's own start-up output, no
    settings.logging of the config's: pytest holds the root logger).
    """
    script = Path(script).absolute()
    stdout, stderr = io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    level, previous = root.level, signal.getsignal(signal.SIGTERM)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        with (
            contextlib.chdir(cwd or script.parent),
            contextlib.redirect_stdout(stdout),
            contextlib.redirect_stderr(stderr),
        ):
            returncode = import_script(script).main([str(arg) for arg in args])
    except SystemExit as exit:  # the command line's errors
        returncode = exit.code if isinstance(exit.code, int) else 1
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        signal.signal(signal.SIGTERM, previous)
    if check and returncode != 0:
        pytest.fail(f"{script.name} exited {returncode}:\n{stderr.getvalue()}")
    return subprocess.CompletedProcess(
        [script, *args], returncode, stdout.getvalue(), stderr.getvalue()
    )


def configs_in(folder: Path, pattern: str = "*.yaml") -> list[Path]:
    """The experiment files of a folder, sorted: not the Kubernetes launchers beside them."""
    return sorted(p for p in folder.glob(pattern) if not p.name.endswith(".k8s.yaml"))
