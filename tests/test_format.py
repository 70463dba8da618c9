"""Formatting by chunks gives exactly black's output on the whole script."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import black
import pytest

from plxgen import format as fmt
from plxgen import precompile
from plxgen.compiler import lower_document, read_config
from plxgen.render import laid_out, render
from plxgen.write import HEADER_LINES

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "generated_examples").glob("*.yaml"))


def raw(config: Path) -> tuple[str, tuple[str, ...]]:
    experiment = lower_document(read_config(config), config.name, "")
    return render(experiment), laid_out(experiment)


@pytest.fixture
def known(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The pairs taken as formatted: empty unless a test adds some."""
    pairs: set[str] = set()
    monkeypatch.setattr(fmt, "_known", lambda: pairs)
    monkeypatch.setattr(fmt, "_remember", lambda chunks: None)
    return pairs


@pytest.mark.parametrize("config", EXAMPLES, ids=lambda p: p.stem)
def test_every_mix_of_known_chunks_gives_black_output(
    config: Path, known: set[str]
) -> None:
    source, statements = raw(config)
    golden = config.with_suffix(".py").read_text().split("\n", HEADER_LINES)[-1]
    assert fmt.black_format(source) == golden
    assert fmt.format_source(source, statements) == golden  # nothing known
    pairs = sorted(fmt.formatted_keys(golden))
    rng = random.Random(config.stem)
    for fraction in (0.3, 0.7, 1.0):
        known.clear()
        known.update(rng.sample(pairs, int(len(pairs) * fraction)))
        assert fmt.format_source(source, statements) == golden, fraction


def test_a_fully_known_script_skips_black(
    known: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    golden = (ROOT / "generated_examples" / "lenet.py").read_text()
    body = golden.split("\n", HEADER_LINES)[-1]
    known.update(fmt.formatted_keys(body))

    def no_black(source: str) -> str:
        raise AssertionError("black ran on a known script")

    monkeypatch.setattr(fmt, "black_format", no_black)
    assert fmt.format_source(body) == body


@pytest.mark.parametrize("config", EXAMPLES, ids=lambda p: p.stem)
def test_scripts_are_what_black_writes_with_its_defaults(config: Path) -> None:
    """`black --check` in a user's repository passes on a generated script."""
    script = config.with_suffix(".py").read_text()
    assert black.format_str(script, mode=black.Mode()) == script


def test_chunks_start_after_blank_lines_outside_strings() -> None:
    source = (
        '"""Doc."""\n'
        "\n"
        "import os\n"
        'TEXT = """\n'
        "\n"
        '# not a comment"""\n'
        "X = 1\n"
        "\n"
        "\n"
        "# a comment\n"
        "@decorator\n"
        "def f():\n"
        "\n"
        "    return 1\n"
        "# trailing\n"
        "\n"
        "Y = 2\n"
    )
    chunks = fmt.split(source)
    assert chunks is not None
    assert [text for text, _ in chunks] == [
        '"""Doc."""\n',
        "\n" "import os\n" 'TEXT = """\n' "\n" '# not a comment"""\n' "X = 1\n",
        "\n\n# a comment\n@decorator\ndef f():\n\n    return 1\n# trailing\n",
        "\nY = 2\n",
    ]
    assert [n for _, n in chunks] == [1, 3, 1, 1]
    assert "".join(text for text, _ in chunks) == source


@pytest.mark.parametrize("text", ["x = [  # fmt: skip\n]\n", "def f(:\n"])
def test_directives_and_broken_text_are_not_split(text: str) -> None:
    assert fmt.split(text) is None


def test_a_laid_out_statement_is_placed_by_black_but_kept(known: set[str]) -> None:
    statement = 'RESOLVED_CONFIG = {\n    "a": 1,\n}\n'
    source = f"def f():\n    return 1\n\n# The config.\n{statement}X = 1\n"
    expected = f"def f():\n    return 1\n\n\n# The config.\n{statement}X = 1\n"
    assert fmt.black_format(source) == expected
    assert fmt.format_source(source, [statement]) == expected


def test_formatted_pairs_are_remembered_in_the_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("PLXGEN_NO_CACHE", raising=False)
    pairs: set[str] = set()
    monkeypatch.setattr(fmt, "_known", lambda: pairs)
    source = "import os\n\n\ndef f():\n    return os.sep\n"
    assert fmt.format_source(source) == source
    memo = tmp_path / "plxgen" / "formatted-chunks"
    assert set(memo.read_text().split()) == fmt.formatted_keys(source) == pairs
    monkeypatch.setenv("PLXGEN_NO_CACHE", "1")
    fmt.format_source("Y = 2\n")
    assert set(memo.read_text().split()) == fmt.formatted_keys(source)


def test_the_shipped_templates_and_chunks_are_current() -> None:
    assert precompile.main(["--check"]) == 0, "run python -m plxgen.precompile"


def test_a_template_edited_since_precompiling_is_compiled_from_source() -> None:
    stale = precompile.load("loop.py.j2", "{{ 1 }}")
    assert stale is None
    module: Any = precompile.load(
        "loop.py.j2", (ROOT / "templates" / "loop.py.j2").read_text()
    )
    assert module is not None and module.name == "loop.py.j2"
