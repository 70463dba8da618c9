"""`plxgen run OUT [-j N] [--runs DIR]`: a compiled sweep's scripts, run here, N at a time.

OUT is the folder `plxgen compile sweep.yaml -o OUT/` wrote: one script per
combination and `matrix.json`, which names them in combination order. Each
script runs with this Python and `--model-dir RUNS/<script stem>` (RUNS:
OUT/runs), its output appended to `RUNS/<stem>/run.log`.

A run is finished when its `metrics.json` exists: the definition `plxgen
results` lists runs by. A rerun skips the finished runs and starts the others
again; each resumes from its newest checkpoint. SIGINT (Ctrl-C) or SIGTERM
stops the sweep the way a batch system stops a script: every running script
gets SIGTERM, saves a checkpoint and exits, and the command that resumes the
sweep is printed.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from plxgen.commands.results import METRICS_FILE
from plxgen.compiler.matrix import INDEX_FILE, is_index
from plxgen.errors import UserError, escape

LOG_FILE = "run.log"
# How long stopped scripts get to save their checkpoint before SIGKILL.
GRACE_SECONDS = 120.0
# How often the running scripts are looked at (and a signal noticed).
POLL_SECONDS = 0.1
# The end of a log read for its last line.
_TAIL_BYTES = 64 * 1024


@dataclass(frozen=True)
class Script:
    """One combination's script: its place in the sweep (from 1) and its values."""

    index: int
    path: Path
    values: dict[str, Any]

    @property
    def name(self) -> str:
        """The script's stem: the name of its run folder."""
        return self.path.stem


@dataclass(frozen=True)
class Sweep:
    """A compiled sweep: its folder, its scripts in combination order, its config."""

    folder: Path
    scripts: list[Script]
    config: Path | None


@dataclass
class Outcome:
    """What a sweep's run came to: how many ran to the end or failed, and a signal."""

    runs: Path
    finished: int = 0
    failed: list[str] = field(default_factory=list)
    signal: int | None = None


def _show(path: Path | str) -> str:
    return escape(str(path))


def read_sweep(folder: Path) -> Sweep:
    """The sweep compiled into folder, from its matrix.json (a UserError if it is none)."""
    index = folder / INDEX_FILE
    if not folder.is_dir():
        raise UserError(
            f"{_show(folder)}: not a folder",
            "give the folder a sweep was compiled into: plxgen compile SWEEP.yaml -o OUT/",
        )
    if not index.is_file():
        raise UserError(
            f"{_show(folder)} holds no {INDEX_FILE}: it is not a compiled sweep",
            "compile a config with a matrix into it first: "
            f"plxgen compile SWEEP.yaml -o {_show(folder)}/",
        )
    try:
        text = index.read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, ValueError) as error:
        raise UserError(
            f"{_show(index)} cannot be read: {getattr(error, 'strerror', None) or error}",
            "compile the sweep again: plxgen compile SWEEP.yaml -o " + _show(folder) + "/",
        ) from None
    config = data.get("config") if isinstance(data, dict) else None
    config_path = folder / config if isinstance(config, str) and config else None
    again = (
        f"compile the sweep again: plxgen compile "
        f"{_show(os.path.normpath(config_path)) if config_path else 'SWEEP.yaml'} -o {_show(folder)}/"
    )
    if not is_index(text):
        raise UserError(f"{_show(index)} is not a {INDEX_FILE} that plxgen wrote", again)
    listed = data.get("scripts")
    if not isinstance(listed, dict) or not listed:
        raise UserError(f'{_show(index)} lists no "scripts"', again)
    scripts = []
    for number, (name, values) in enumerate(listed.items(), 1):
        if (
            not isinstance(name, str)
            or not name.endswith(".py")
            or os.path.basename(name) != name
            or name[: -len(".py")] in ("", ".", "..")  # a run folder of its own
            or "\0" in name
            or not isinstance(values, dict)
        ):
            raise UserError(
                f'{_show(index)}: "scripts" holds {escape(repr(name))}, not a script '
                "of this folder with its values",
                again,
            )
        path = folder / name
        if not path.is_file():
            raise UserError(f"{_show(index)} names {escape(name)}, which is missing", again)
        scripts.append(Script(number, path, {str(k): v for k, v in values.items()}))
    return Sweep(folder, scripts, config_path)


def default_jobs(sweep: Sweep) -> int:
    """settings.concurrent_experiments of the sweep's config where it is a positive int, else 1."""
    import yaml

    if sweep.config is None:
        return 1
    try:
        config = yaml.safe_load(sweep.config.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return 1  # moved, unreadable or not YAML: the scripts need none of it
    settings = config.get("settings") if isinstance(config, dict) else None
    jobs = settings.get("concurrent_experiments") if isinstance(settings, dict) else None
    if isinstance(jobs, int) and not isinstance(jobs, bool) and jobs > 0:
        return jobs
    return 1


def rerun_command(folder: Path, jobs: int, runs: Path | None) -> str:
    """The command that runs the sweep again (and so resumes it)."""
    words = ["plxgen", "run", str(folder), "-j", str(jobs)]
    if runs is not None:
        words += ["--runs", str(runs)]
    return shlex.join(words)


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _duration(seconds: float) -> str:
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def _report(folder: Path) -> dict[str, Any]:
    """The run's metrics.json ({} where it is not a JSON object)."""
    try:
        report = json.loads((folder / METRICS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return report if isinstance(report, dict) else {}


def _metrics(report: dict[str, Any]) -> str:
    """The final metrics, eval's else train's: `loss 0.2965, accuracy 0.9359`."""
    for part in ("eval", "train"):
        found = report.get(part)
        if isinstance(found, dict):
            numbers = {
                str(name): value
                for name, value in found.items()
                if isinstance(value, (int, float)) and not isinstance(value, bool)
            }
            if numbers:
                # loss first, then by name: the order of `plxgen results`' columns
                names = sorted(numbers, key=lambda name: (name != "loss", name))
                return ", ".join(f"{name} {numbers[name]:.4g}" for name in names)
    return ""


def _last_line(log: Path, offset: int) -> str:
    """The last non-empty line the script wrote to its log (after offset)."""
    try:
        with open(log, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(offset, size - _TAIL_BYTES))
            text = f.read().decode("utf-8", errors="replace")
    except OSError:
        return "(its log cannot be read)"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def _exit_status(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit {code}"


def _ignore_sigint() -> None:
    """In the child, before it runs the script: SIGINT ignored (kept across exec).

    Ctrl-C in a terminal sends SIGINT to the whole foreground process group,
    so a script in ours would see it too and stop at once (KeyboardInterrupt:
    no checkpoint), before the SIGTERM that plxgen run sends it could save one.
    Ignoring SIGINT (Python leaves an ignored SIGINT alone) keeps the scripts in
    this process group, unlike start_new_session: Ctrl-Z still suspends the
    whole sweep, a closed terminal's SIGHUP still ends it, and a sweep killed
    with its process group leaves no script training in the background.
    (preexec_fn is safe here: plxgen run starts no threads.)
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _Signals:
    """SIGINT and SIGTERM, noted while the sweep runs instead of ending plxgen."""

    HANDLED = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.received: list[int] = []
        self._previous: dict[int, Any] = {}

    def _note(self, signum: int, frame: FrameType | None) -> None:
        self.received.append(signum)

    def __enter__(self) -> _Signals:
        for signum in self.HANDLED:
            self._previous[signum] = signal.signal(signum, self._note)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


@dataclass
class _Running:
    script: Script
    process: subprocess.Popen[bytes]
    log: Path
    offset: int
    started: float


class _Sweeper:
    """Starts the scripts, N at a time, and reports each start and end on `err`."""

    def __init__(self, sweep: Sweep, runs: Path, jobs: int, err: TextIO) -> None:
        self.sweep = sweep
        self.runs = runs
        self.jobs = jobs
        self.err = err
        self.total = len(sweep.scripts)
        self.running: list[_Running] = []
        self.outcome = Outcome(runs)

    def say(self, line: str) -> None:
        self.err.write(escape(line) + "\n")
        self.err.flush()

    def tag(self, script: Script) -> str:
        return f"[{script.index}/{self.total}]"

    def folder(self, script: Script) -> Path:
        return self.runs / script.name

    def finished(self, script: Script) -> bool:
        return (self.folder(script) / METRICS_FILE).is_file()

    def start(self, script: Script) -> None:
        folder = self.folder(script)
        log = folder / LOG_FILE
        argv = [
            sys.executable,
            os.path.abspath(script.path),
            "--model-dir",
            os.path.abspath(folder),
        ]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with open(log, "ab") as out:
                out.write(f"==> {shlex.join(argv)}  (plxgen run, {time.ctime()})\n".encode())
                out.flush()
                offset = out.tell()
                process = subprocess.Popen(
                    argv,
                    cwd=self.sweep.folder,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env={**os.environ, "PYTHONUNBUFFERED": "1"},  # the log as it happens
                    preexec_fn=_ignore_sigint,
                )
        except OSError as error:
            where = f" {error.filename}" if error.filename else ""
            self.say(
                f"{self.tag(script)} FAILED {script.name}: cannot start it:{where}: "
                f"{error.strerror or error}"
            )
            self.outcome.failed.append(script.name)
            return
        values = ", ".join(f"{k}={_value(v)}" for k, v in script.values.items())
        self.say(f"{self.tag(script)} start {script.name} ({values})")
        self.running.append(_Running(script, process, log, offset, time.monotonic()))

    def reap(self, stopping: bool = False) -> None:
        """Report the scripts that exited since the last look."""
        for run in list(self.running):
            code = run.process.poll()
            if code is None:
                continue
            self.running.remove(run)
            self.ended(run, code, stopping)

    def ended(self, run: _Running, code: int, stopping: bool) -> None:
        script, took = run.script, _duration(time.monotonic() - run.started)
        if self.finished(script):
            # Finished is metrics.json, whatever came after it (a SIGTERM that
            # arrived while the script exited): a rerun skips the run.
            report = _report(self.folder(script))
            resumed = report.get("resumed_from")
            notes = [f"{_exit_status(code)} after {METRICS_FILE}"] if code else []
            if isinstance(resumed, int) and not isinstance(resumed, bool) and resumed > 0:
                notes.append(f"resumed from step {resumed}")
            metrics = _metrics(report)
            self.say(
                f"{self.tag(script)} done  {script.name} in {took}"
                + (f" ({'; '.join(notes)})" if notes else "")
                + (f": {metrics}" if metrics else "")
            )
            self.outcome.finished += 1
        elif stopping:
            self.say(
                f"{self.tag(script)} stopped {script.name} after {took} "
                f"({_exit_status(code)}): {_last_line(run.log, run.offset)}"
            )
        else:
            why = (
                f"exit 0 without writing {METRICS_FILE}"
                if code == 0
                else _exit_status(code)
            )
            self.say(
                f"{self.tag(script)} FAILED {script.name} ({why}): "
                f"{_last_line(run.log, run.offset)}"
            )
            self.outcome.failed.append(script.name)

    def sweep_all(self, signals: _Signals) -> None:
        pending: deque[Script] = deque()
        for script in self.sweep.scripts:
            if self.finished(script):
                self.say(f"{self.tag(script)} skip  {script.name} (finished)")
                self.outcome.finished += 1
            else:
                pending.append(script)
        while (pending or self.running) and not signals.received:
            while pending and len(self.running) < self.jobs and not signals.received:
                self.start(pending.popleft())
            time.sleep(POLL_SECONDS)
            self.reap()

    def stop(self, signals: _Signals, grace: float = GRACE_SECONDS) -> None:
        """SIGTERM to every running script, then wait for them (SIGKILL after `grace`).

        A signal beyond the one that stopped the sweep kills them at once.
        """
        seen = min(len(signals.received), 1)
        self.reap(stopping=True)
        if not self.running:
            return
        for run in self.running:
            run.process.send_signal(signal.SIGTERM)
        count = len(self.running)
        self.say(
            f"stopping: sent SIGTERM to {count} run{'s' if count != 1 else ''}, "
            f"to save a checkpoint and exit; waiting up to {int(grace)} s "
            "(Ctrl-C again: kill them now)"
        )
        deadline = time.monotonic() + grace
        while True:
            self.reap(stopping=True)
            if not self.running:
                return
            if time.monotonic() >= deadline or len(signals.received) > seen:
                break
            time.sleep(POLL_SECONDS)
        for run in self.running:
            run.process.kill()
        for run in self.running:
            run.process.wait()
            self.say(
                f"{self.tag(run.script)} killed {run.script.name}: it had not exited; "
                "it resumes from its newest checkpoint"
            )
        self.running.clear()


def run_sweep(
    folder: Path, jobs: int | None, runs: Path | None, err: TextIO
) -> Outcome:
    """Run the scripts of the sweep in folder that have not finished, `jobs` at a time.

    jobs None: settings.concurrent_experiments of the sweep's config, else 1.
    runs None: folder/runs. Returns how it went; `signal` is set where SIGINT
    or SIGTERM stopped it (the running scripts were stopped and waited for).
    """
    sweep = read_sweep(folder)
    effective = jobs if jobs is not None else default_jobs(sweep)
    runs_dir = runs if runs is not None else folder / "runs"
    rerun = rerun_command(folder, effective, runs)
    if jobs is not None:
        source = f"-j {jobs}"
    elif effective > 1:
        source = "settings.concurrent_experiments"
    else:
        source = "-j N for more"
    sweeper = _Sweeper(sweep, runs_dir, effective, err)
    total = len(sweep.scripts)
    started = time.monotonic()
    sweeper.say(
        f"{folder}: {total} run{'s' if total != 1 else ''}, {effective} at a time "
        f"({source}); each in {runs_dir}/NAME, its output in NAME/{LOG_FILE}"
    )
    outcome = sweeper.outcome
    with _Signals() as signals:
        try:
            sweeper.sweep_all(signals)
        finally:
            # Also where plxgen itself fails: no script is left training unwatched.
            sweeper.stop(signals)
        if signals.received:
            outcome.signal = signals.received[0]
    took = _duration(time.monotonic() - started)
    if outcome.signal is not None:
        name = signal.Signals(outcome.signal).name
        sweeper.say(
            f"stopped by {name} after {took}: {outcome.finished} of {total} runs finished; "
            f"rerun: {rerun}"
        )
    elif outcome.failed:
        logs = ", ".join(str(runs_dir / name / LOG_FILE) for name in outcome.failed)
        sweeper.say(
            f"{len(outcome.failed)} of {total} runs failed ({logs}); "
            f"{outcome.finished} finished, in {took}; rerun to retry: {rerun}"
        )
    else:
        sweeper.say(f"{total} of {total} runs finished, in {took}")
    return outcome
