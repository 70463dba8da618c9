"""Hardening, second round: one test (or one table of hostile inputs) per class of fault.

- tests/hostile/*.yaml: configs that once made plxgen crash (exit 123), hang,
  allocate gigabytes or forge diagnostic lines. Each starts with
  `# expect: CODE`; compiling it must exit 2 with that diagnostic code, every
  line of stderr a well-formed diagnostic (no control character, no forged
  line), in bounded time and memory.
- the other tests: non-regular files, names too long, standard output that
  cannot be written, `plxgen data` without numpy, the matrix cap, writes that
  lose data or are not all-or-nothing, the body cache, `--set` in headers.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from plxgen import cli
from plxgen.compiler import cache
from plxgen.compiler.load import MAX_FILE_BYTES
from plxgen.errors import Diagnostic, UserError
from tests.conftest import ROOT, hang_guard, plxgen

HOSTILE = sorted((ROOT / "tests" / "hostile").glob("*.yaml"))
EXAMPLE = ROOT / "generated_examples" / "lenet.yaml"
BASE = """\
version: 1
project: {name: hostile}
model:
  classifier:
    loss: {SoftmaxCrossEntropy: }
    optimizer: {Adam: {learning_rate: 0.01}}
    n_classes: 10
    graph:
      input_layers: image
      layers:
        - Flatten:
        - Dense: {units: 10}
train:
  data_pipeline:
    TFRecordImagePipeline:
      batch_size: 64
      data_files: [a.tfrecord]
      meta_data_file: m.json
"""
# What one hostile config may cost in memory, at most (a regression costs gigabytes).
MAX_PEAK_BYTES = 48_000_000
# A compile still running after this long is hung (an exponential blow-up).
HANG_SECONDS = 120
_LINE = re.compile(r"(\S.*:\d+:\d+: error: .* \[[\w-]+\]|  hint: .*|\d+ errors?)\Z")


def _expected(config: Path) -> str:
    first = config.read_text(encoding="utf-8").split("\n", 1)[0]
    found = re.fullmatch(r"# expect: ([\w-]+)", first)
    assert found, f"{config.name} must start with `# expect: CODE`"
    return found.group(1)


def assert_clean(err: str) -> None:
    """Every line a diagnostic, a hint or the count; nothing reaches the terminal raw."""
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029]", err), err
    for line in err.splitlines():
        assert _LINE.match(line) or line.startswith("plxgen: error: "), line


def assert_hinted(err: str) -> None:
    """Every located diagnostic is followed by its hint line."""
    lines = err.splitlines()
    for i, line in enumerate(lines):
        if ": error: " in line and not line.startswith("plxgen: "):
            following = lines[i + 1] if i + 1 < len(lines) else ""
            assert following.startswith("  hint: "), f"no hint for: {line}"


@pytest.mark.parametrize(
    "golden", sorted((ROOT / "tests" / "broken").glob("*.err")), ids=lambda p: p.stem
)
def test_every_expected_diagnostic_has_a_hint(golden: Path) -> None:
    assert_hinted(golden.read_text(encoding="utf-8"))


def _unhinted_calls() -> list[str]:
    """`fail(...)` and `Diagnostic(...)` calls of the compiler that pass no hint."""
    import ast

    found = []
    for source in sorted((ROOT / "plxgen").rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            # The positional index of `hint`: fail/diagnostic(path, message, code,
            # hint), Diagnostic's 7th.
            at = {"fail": 3, "diagnostic": 3, "Diagnostic": 6}.get(name)
            if at is None or len(node.args) > at or any(k.arg == "hint" for k in node.keywords):
                continue
            codes = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if "yaml-syntax" in codes:  # PyYAML's own message says where and what
                continue
            found.append(f"{source.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_diagnostic_of_the_compiler_passes_a_hint() -> None:
    assert _unhinted_calls() == []


@pytest.mark.parametrize("config", HOSTILE, ids=lambda p: p.stem)
def test_hostile_config_is_a_located_diagnostic(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _expected(config)
    capsys.readouterr()
    tracemalloc.start()
    try:
        with hang_guard(HANG_SECONDS):
            status = cli.main(["compile", str(config), "-o", str(tmp_path / "out")])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    err = capsys.readouterr().err
    assert status == 2, err
    assert f"[{code}]" in err
    assert_clean(err)
    assert_hinted(err)
    assert peak < MAX_PEAK_BYTES, f"{peak} bytes"
    assert not (tmp_path / "out").exists()


def test_every_message_is_escaped_at_the_funnel() -> None:
    """Diagnostic and UserError escape whatever a caller put in them."""
    forged = "x\nf.yaml:1:1: error: forged [x]\x1b[2J\x07\u2028"
    text = Diagnostic(forged, 1, 1, forged, forged, "c", forged).format()
    assert text.count("\n") == 1 and text.split("\n")[1].startswith("  hint: ")
    assert_clean(text)
    text = UserError(forged, forged).format()
    assert text.count("\n") == 1
    assert "\\n" in text and "\\x1b" in text and "\\x07" in text and "\\u2028" in text


# ------------------------------------------------------------ non-regular files


@pytest.fixture
def fifo_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text(BASE, encoding="utf-8")
    os.mkfifo(tmp_path / "fifo.yaml")
    os.mkfifo(tmp_path / "fifo.py")
    return tmp_path


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "fifo.yaml"],
        ["compile", "fifo.yaml", "-o", "out.py"],
        ["compile", "c.yaml", "-o", "fifo.py"],
        ["compile", "c.yaml", "-o", "fifo.py", "--force"],
        ["check", "c.yaml", "-o", "fifo.py"],
        ["upgrade", "fifo.yaml"],
        ["upgrade", "--write", "fifo.yaml"],
        ["hook", "check", "fifo.py", "fifo.yaml"],
        ["hook", "compile", "fifo.py"],
    ],
    ids=lambda a: "-".join(a).replace(".", "_"),
)
def test_a_fifo_is_refused_without_opening_it(fifo_work: Path, args: list[str]) -> None:
    """open() on a FIFO blocks until a writer comes: refused by its type instead."""
    try:
        done = plxgen(*args, cwd=fifo_work, timeout=60)
    except BaseException as exc:  # the child blocked in open(): the test's timeout
        pytest.fail(f"plxgen {' '.join(args)} blocked on a FIFO ({type(exc).__name__})")
    assert done.returncode in (0, 1, 2), done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    if args[0] != "hook":
        assert done.returncode == 2 and "not a regular file" in done.stderr
    assert not (fifo_work / "out.py").exists()


def test_a_fifo_as_a_paired_script_is_a_problem(fifo_work: Path) -> None:
    """`hook check c.yaml` whose script (c.py) is a FIFO: reported, not opened."""
    os.mkfifo(fifo_work / "c.py")
    done = plxgen("hook", "check", "c.yaml", cwd=fifo_work, timeout=60)
    assert done.returncode == 2
    assert "c.py is a FIFO, not a regular file" in done.stderr


# ------------------------------------------------------------ names too long


@pytest.mark.parametrize(
    "args",
    [
        ["compile", "c.yaml", "-o", "a" * 300 + ".py"],
        ["compile", "c.yaml", "-o", "a" * 300 + "/"],
        ["check", "c.yaml", "-o", "a" * 300 + ".py"],
        ["validate", "a" * 300 + ".yaml"],
        ["init", "a" * 300],
        ["upgrade", "a" * 300 + ".yaml"],
        ["compile", "c.yaml", "-o", ""],
        ["check", "c.yaml", "-o", ""],
    ],
    ids=["compile-o", "compile-o-folder", "check-o", "validate", "init", "upgrade",
         "compile-empty-o", "check-empty-o"],  # fmt: skip
)
def test_a_path_the_system_refuses_is_a_user_error(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text(BASE, encoding="utf-8")
    capsys.readouterr()
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err and err.startswith(("plxgen: error: ", "usage: "))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


# ------------------------------------------------------------ standard output


def test_stdout_on_a_full_disk_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(BASE, encoding="utf-8")
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "plxgen", "compile", "c.yaml"],
            cwd=tmp_path, stdout=full, stderr=subprocess.PIPE, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr == "plxgen: error: cannot write to standard output: No space left on device\n"


def test_stdout_closed_by_the_reader_is_quiet(tmp_path: Path) -> None:
    """`plxgen compile c.yaml | head -0`: the reader went away; no traceback, no 123."""
    (tmp_path / "c.yaml").write_text(BASE, encoding="utf-8")
    read, write = os.pipe()
    os.close(read)  # closed before plxgen writes: every write is EPIPE
    try:
        done = subprocess.run(
            [sys.executable, "-m", "plxgen", "compile", "c.yaml"],
            cwd=tmp_path, stdout=write, stderr=subprocess.PIPE, text=True, timeout=120,
        )  # fmt: skip
    finally:
        os.close(write)
    assert done.returncode == 2
    assert done.stderr == ""


# ------------------------------------------------------------ plxgen data without numpy


@pytest.mark.parametrize("kind", [["digits"], ["npz", "x.npz"], ["mnist", "src"]])
def test_data_without_numpy_says_which_extra_to_install(
    kind: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [m for m in sys.modules if m == "numpy" or m.startswith(("numpy.", "plxgen.data"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "numpy", None)  # import numpy -> ModuleNotFoundError
    capsys.readouterr()
    assert cli.main(["data", *kind, "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "numpy" in err and 'pip install "plxgen[train]"' in err


# ------------------------------------------------------------ the matrix cap


@pytest.mark.parametrize("cap", ["1000000000000", "0", "-5", "lots"])
def test_max_combinations_is_bounded(
    cap: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        BASE.replace("project: {name: hostile}", "project: {name: hostile}\nmatrix:\n  n: {range: [1, 1000000000000, 1]}")
        .replace("units: 10}", 'units: "{{ n }}"}'),
        encoding="utf-8",
    )  # fmt: skip
    capsys.readouterr()
    assert cli.main(["validate", str(config), "--max-combinations", cap]) == 2
    assert "--max-combinations" in capsys.readouterr().err


# ------------------------------------------------------------ writes


def test_upgrade_refuses_a_file_over_the_size_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "big.yaml"
    text = EXAMPLE.read_text(encoding="utf-8").replace("train_steps:", "steps:", 1)
    text += "#" * (MAX_FILE_BYTES + 10 - len(text)) + "\n"
    config.write_text(text, encoding="utf-8")
    assert cli.main(["upgrade", "--write", str(config)]) == 2
    assert f"larger than {MAX_FILE_BYTES} bytes" in capsys.readouterr().err
    assert config.read_text(encoding="utf-8") == text


def test_init_keeps_a_users_own_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    mine = tmp_path / "experiment.schema.json"
    mine.write_text('{"mine": true}\n', encoding="utf-8")
    assert cli.main(["init", "exp"]) == 2
    assert mine.read_text(encoding="utf-8") == '{"mine": true}\n'
    assert not (tmp_path / "exp.yaml").exists()
    assert cli.main(["init", "exp", "--force"]) == 0
    assert mine.read_text(encoding="utf-8") != '{"mine": true}\n'
    (tmp_path / "exp.yaml").unlink()
    assert cli.main(["init", "exp"]) == 0  # plxgen's own schema: rewritten as it is


@pytest.mark.parametrize("url", ["a.json\nproject: {name: injected}", "a.json\r", "a\x1b[2J.json", "a\u2028.json"])
def test_init_refuses_a_schema_url_that_would_inject_lines(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The URL is written into the modeline comment: a newline would start YAML lines."""
    monkeypatch.chdir(tmp_path)
    assert cli.main(["init", "exp", "--schema", url]) == 2
    err = capsys.readouterr().err
    assert "control character" in err
    assert_clean(err)
    assert list(tmp_path.iterdir()) == []


def test_several_outputs_are_written_all_or_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The second output cannot be written: the first is not left written either."""
    monkeypatch.chdir(tmp_path)
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.yaml").write_text(BASE, encoding="utf-8")
    calls = []
    real_fsync = os.fsync

    def full_disk(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full_disk)
    assert cli.main(["compile", "a.yaml", "b.yaml", "c.yaml", "-o", "out"]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # the folder it made is gone too
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml", "b.yaml", "c.yaml"]


# ------------------------------------------------------------ the body cache


def test_a_tampered_cache_entry_is_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("PLXGEN_NO_CACHE", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text(BASE, encoding="utf-8")
    assert cli.main(["compile", "c.yaml", "-o", "c.py"]) == 0
    good = (tmp_path / "c.py").read_text(encoding="utf-8")
    folder = tmp_path / "xdg" / "plxgen"
    secret = folder / "secret"
    assert secret.stat().st_mode & 0o777 == 0o600
    (entry,) = [p for p in (folder / "bodies").rglob("*") if p.is_file()]
    magic, _, body = entry.read_bytes().partition(b"\n")[0], None, entry.read_bytes().split(b"\n", 2)[2]
    evil = body.replace(b"import ", b"import os; os.system('x'); import ", 1)
    entry.write_bytes(magic + b"\n" + hashlib.sha256(evil).hexdigest().encode() + b"\n" + evil)
    (tmp_path / "c.py").unlink()
    assert cli.main(["compile", "c.yaml", "-o", "c.py"]) == 0
    assert (tmp_path / "c.py").read_text(encoding="utf-8") == good
    # `check` never reads the cache: even an entry that passes its HMAC (someone
    # who has the secret) cannot decide what CI accepts.
    real_get = cache.get
    monkeypatch.setattr(cache, "get", lambda name: "evil = 1\n" if real_get(name) else None)
    assert cli.main(["check", "c.yaml", "-o", "c.py"]) == 0


def test_a_secret_others_can_read_means_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("PLXGEN_NO_CACHE", raising=False)
    cache.put("ab" * 32, "body\n")
    assert cache.get("ab" * 32) == "body\n"
    (tmp_path / "xdg" / "plxgen" / "secret").chmod(0o644)
    assert cache.get("ab" * 32) is None


# ------------------------------------------------------------ --set in the header


def test_a_set_value_with_a_newline_round_trips_through_the_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text(BASE, encoding="utf-8")
    sets = [
        "project.description=|\n  two\n  lines\n",  # a literal block: "two\nlines\n"
        "project.description=folded\nline",
        'project.description="tab\there"',
        'project.description="a\\nb"',  # printable: kept as written
    ]
    for item in sets:
        assert cli.main(["compile", "c.yaml", "-o", "c.py", "--force", "--set", item]) == 0
        header = (tmp_path / "c.py").read_text(encoding="utf-8").split("\n", 3)[:3]
        assert all(line.isprintable() for line in header)
        capsys.readouterr()
        assert cli.main(["hook", "check", "c.py"]) == 0, capsys.readouterr()
        assert cli.main(["hook", "compile", "c.py"]) == 0


# ------------------------------------------------------------ env_id and env_module


def test_env_module_is_imported_by_name_before_make(tmp_path: Path) -> None:
    """A module that registers the environment is named apart, and imported as a checked name."""
    rl = ROOT / "generated_examples" / "dqn_cartpole.yaml"
    config = tmp_path / "env.yaml"
    text = rl.read_text(encoding="utf-8")
    config.write_text(
        text.replace("env_id: CartPole-v1", "env_id: Grid-v0, env_module: my_envs.grid"),
        encoding="utf-8",
    )
    assert cli.main(["compile", str(config), "-o", str(tmp_path / "env.py")]) == 0
    script = (tmp_path / "env.py").read_text(encoding="utf-8")
    assert 'ENV_ID = "Grid-v0"\nENV_MODULE = "my_envs.grid"\n' in script
    assert "\nimport importlib\n" in script
    imported = script.index("importlib.import_module(ENV_MODULE)")
    assert imported < script.index("gym.make(ENV_ID, **ENV_KWARGS)")
    # Without env_module, nothing is imported for the environment.
    assert "importlib" not in (ROOT / "generated_examples" / "dqn_cartpole.py").read_text(
        encoding="utf-8"
    )


# ------------------------------------------------------------ edits to the header


def test_an_edit_to_the_regenerate_line_is_an_edit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The hash covers the header's other lines: compile refuses to overwrite, check reports it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text(BASE, encoding="utf-8")
    assert cli.main(["compile", "c.yaml", "-o", "c.py"]) == 0
    script = tmp_path / "c.py"
    lines = script.read_text(encoding="utf-8").split("\n")
    lines[1] += " --set train.train_steps=5"
    script.write_text("\n".join(lines), encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["compile", "c.yaml", "-o", "c.py"]) == 2
    assert "edited" in capsys.readouterr().err
    assert script.read_text(encoding="utf-8").split("\n")[1] == lines[1]
    assert cli.main(["check", "c.yaml", "-o", "c.py"]) == 1
