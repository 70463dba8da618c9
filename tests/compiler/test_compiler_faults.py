"""The compiler survives I/O faults and its own bugs.

A folder it cannot write to, a full disk, an interrupt, compiles racing for
one output, an internal error: exit 2 (or 123 for a bug) with one readable
line, the old output byte for byte as it was, and no temporary file left.
"""

from __future__ import annotations

import errno
import io
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from plxgen import cli
from plxgen.compiler.load import MAX_FILE_BYTES
from plxgen.compiler.write import state
from tests.conftest import ROOT, finished, plxgen, start_plxgen

SEED = ROOT / "generated_examples" / "lenet_digits.yaml"


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with the config and a compiled train.py (the old output)."""
    (tmp_path / "c.yaml").write_bytes(SEED.read_bytes())
    monkeypatch.chdir(tmp_path)
    assert cli.main(["compile", "c.yaml", "-o", "train.py"]) == 0
    # The next compile has something to write: a changed config.
    text = SEED.read_text().replace("train_steps: 300", "train_steps: 400")
    (tmp_path / "c.yaml").write_text(text)
    return tmp_path


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def compile_fails(capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    """Run `plxgen compile c.yaml -o train.py`, expect exit 2, return stderr."""
    capsys.readouterr()
    assert cli.main(["compile", "c.yaml", "-o", "train.py", *extra]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return captured.err


def assert_untouched(work: Path, old: bytes) -> None:
    assert (work / "train.py").read_bytes() == old
    assert files(work) == ["c.yaml", "train.py"]


# --------------------------------------------------------------- writing


def test_unwritable_folder_no_temp_file(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    old = (work / "train.py").read_bytes()

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    err = compile_fails(capsys)
    assert err == "plxgen: error: cannot write train.py: Permission denied\n"
    assert_untouched(work, old)


def test_unwritable_output_rename_fails(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    old = (work / "train.py").read_bytes()

    def refuse(src: Any, dst: Any) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    assert "cannot write train.py: Permission denied" in compile_fails(capsys)
    assert_untouched(work, old)


@pytest.mark.parametrize("where", ["fsync", "write", "close", "chmod"])
def test_full_disk(
    where: str,
    work: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """ENOSPC while writing, flushing, syncing or finishing the temp file."""
    old = (work / "train.py").read_bytes()
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def fail(*args: Any, **kwargs: Any) -> None:
        raise full

    if where in ("fsync", "chmod"):
        monkeypatch.setattr(os, where, fail)
    else:
        real_fdopen = os.fdopen

        def fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
            return _FullDisk(real_fdopen(fd, *args, **kwargs), where, full)

        monkeypatch.setattr(os, "fdopen", fdopen)
    err = compile_fails(capsys)
    assert err == "plxgen: error: cannot write train.py: No space left on device\n"
    assert_untouched(work, old)


class _FullDisk:
    """A text file that writes half of what it is given, then fails (or fails on close)."""

    def __init__(self, f: io.TextIOWrapper, where: str, error: OSError) -> None:
        self.f, self.where, self.error = f, where, error

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.f.close()
        if self.where == "close" and not exc[0]:
            raise self.error

    def write(self, text: str) -> int:
        if self.where == "write":
            self.f.write(text[: len(text) // 2])
            self.f.flush()
            raise self.error
        return self.f.write(text)

    def flush(self) -> None:
        self.f.flush()

    def fileno(self) -> int:
        return self.f.fileno()


def test_interrupt_while_writing_leaves_no_temp_file(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = (work / "train.py").read_bytes()

    def interrupt(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupt)
    assert cli.main(["compile", "c.yaml", "-o", "train.py"]) == 130
    assert_untouched(work, old)


def test_output_is_a_device(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An OUT that is not a regular file (here /dev/zero) is refused without opening it."""
    capsys.readouterr()
    assert cli.main(["compile", "c.yaml", "-o", "/dev/zero"]) == 2
    assert "/dev/zero is a device, not a regular file" in capsys.readouterr().err


# --------------------------------------------------------------- reading


def test_unreadable_config(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    old = (work / "train.py").read_bytes()
    real_open = open

    def failing_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file) == "c.yaml":
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", failing_open)
    err = compile_fails(capsys)
    assert err == "plxgen: error: cannot read c.yaml: Input/output error\n"
    assert_untouched(work, old)


def test_endless_config_is_read_only_up_to_the_limit(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A config larger than MAX_FILE_BYTES is read only that far; a device not at all."""
    huge = work / "huge.yaml"
    with open(huge, "wb") as f:  # sparse: no disk is written
        f.truncate(MAX_FILE_BYTES * 4)
    capsys.readouterr()
    assert cli.main(["validate", str(huge)]) == 2
    err = capsys.readouterr().err
    assert f"larger than {MAX_FILE_BYTES} bytes [too-large]" in err
    assert cli.main(["validate", "/dev/zero"]) == 2
    assert "/dev/zero is a device, not a regular file" in capsys.readouterr().err


# ----------------------------------------------------------- racing


@pytest.mark.parametrize("racers", [2, 4])
def test_compiles_racing_for_one_output(racers: int, tmp_path: Path) -> None:
    """Each exits 0 (or 2, cleanly); the result is always one whole script of one config."""
    configs = []
    for i in range(racers):
        text = SEED.read_text().replace("train_steps: 300", f"train_steps: {300 + i}")
        (tmp_path / f"c{i}.yaml").write_text(text)
        configs.append(f"c{i}.yaml")
    for _ in range(2):
        processes = [
            start_plxgen("compile", c, "-o", "train.py", cwd=tmp_path) for c in configs
        ]
        for process in processes:
            err = finished(process, timeout=120).stderr
            assert process.returncode in (0, 2), err
            assert "Traceback" not in err and "internal error" not in err
            if (
                process.returncode == 2
            ):  # another racer's output was taken for a foreign file
                assert err.startswith("plxgen: error: "), err
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(configs + ["train.py"])  # fmt: skip
        script = (tmp_path / "train.py").read_text()
        assert state(script) == "generated"
        compile(script, "train.py", "exec")
        winner = [c for c in configs if f"from {c}." in script.split("\n")[0]]
        assert len(winner) == 1
        check = plxgen("check", winner[0], "-o", "train.py", cwd=tmp_path, timeout=120)
        assert check.returncode == 0, check.stdout + check.stderr
    import black

    assert black.format_str(script, mode=black.Mode()) == script


# ------------------------------------------------------------- bugs


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("boom")


@pytest.mark.parametrize("target", ["plxgen.compiler.render.render", "plxgen.compiler.lower.lower"])
def test_internal_error_is_one_line_and_exit_123(
    target: str,
    work: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = (work / "train.py").read_bytes()
    monkeypatch.setenv("PLXGEN_NO_CACHE", "1")  # a cached body skips both stages
    monkeypatch.setattr(target, _boom)
    capsys.readouterr()
    assert cli.main(["compile", "c.yaml", "-o", "train.py"]) == 123
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("plxgen: internal error (a bug in plxgen ")
    assert "--debug" in err and "Traceback" not in err
    assert_untouched(work, old)


def test_internal_error_with_debug_shows_the_traceback(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("plxgen.compiler.render.render", _boom)
    capsys.readouterr()
    assert (
        cli.main(["--debug", "--no-cache", "compile", "c.yaml", "-o", "train.py"])
        == 123
    )
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert err.rstrip().endswith("RuntimeError: boom")
