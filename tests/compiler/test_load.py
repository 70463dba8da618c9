"""plxgen.compiler.load: YAML to plain data with the position of every key and value, and every refusal located."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from plxgen.errors import ConfigError, Diagnostic
from plxgen.compiler.load import MAX_DEPTH, Document, format_path, load_bytes, load_text
from tests.conftest import ROOT, configs_in

SAMPLE = """\
version: 1
project:
  name: demo
model:
  layers:
    - Dense:
        units: 10
    - Flatten:
  flow: [1, {a: 2}]
"""


def errors(text: str | bytes, file: str = "f.yaml") -> list[Diagnostic]:
    """The diagnostics that loading `text` raises (fails if it loads)."""
    with pytest.raises(ConfigError) as info:
        if isinstance(text, bytes):
            load_bytes(text, file)
        else:
            load_text(text, file)
    return info.value.diagnostics


def only(text: str | bytes) -> Diagnostic:
    """The single diagnostic that loading `text` raises."""
    found = errors(text)
    assert len(found) == 1, found
    return found[0]


@pytest.fixture
def doc() -> Document:
    return load_text(SAMPLE, "f.yaml")


def test_data_is_plain(doc: Document) -> None:
    assert doc.data == {
        "version": 1,
        "project": {"name": "demo"},
        "model": {
            "layers": [{"Dense": {"units": 10}}, {"Flatten": None}],
            "flow": [1, {"a": 2}],
        },
    }


def test_positions_of_top_level_keys_and_values(doc: Document) -> None:
    assert doc.keys[("version",)] == (1, 1)
    assert doc.values[("version",)] == (1, 10)
    assert doc.keys[("project",)] == (2, 1)
    assert doc.values[()] == (1, 1)


def test_positions_of_nested_values(doc: Document) -> None:
    assert doc.keys[("project", "name")] == (3, 3)
    assert doc.values[("project", "name")] == (3, 9)
    assert doc.values[("project",)] == (3, 3)


def test_positions_of_list_items(doc: Document) -> None:
    assert doc.values[("model", "layers", 0)] == (6, 7)
    assert doc.values[("model", "layers", 1)] == (8, 7)
    assert doc.keys[("model", "layers", 0, "Dense", "units")] == (7, 9)
    assert doc.values[("model", "layers", 0, "Dense", "units")] == (7, 16)


def test_positions_in_flow_collections(doc: Document) -> None:
    assert doc.values[("model", "flow")] == (9, 9)
    assert doc.values[("model", "flow", 0)] == (9, 10)
    assert doc.values[("model", "flow", 1, "a")] == (9, 17)


def test_where_prefers_the_key_when_asked(doc: Document) -> None:
    assert doc.where(("project", "name")) == ("f.yaml", 3, 9)
    assert doc.where(("project", "name"), key=True) == ("f.yaml", 3, 3)


def test_where_falls_back_to_the_nearest_parent(doc: Document) -> None:
    assert doc.where(("model", "layers", 0, "Dense", "missing")) == ("f.yaml", 7, 9)
    assert doc.where(("model", "layers", 7)) == ("f.yaml", 6, 5)
    assert doc.where(("nowhere", "at", "all")) == ("f.yaml", 1, 1)


def test_where_names_an_override() -> None:
    doc = load_text("a:\n  b: 1\n", "f.yaml")
    doc = Document(
        doc.file, doc.data, doc.values, doc.keys, {("a", "b"): "--set a.b=1"}
    )
    assert doc.where(("a", "b")) == ("--set a.b=1", 1, 1)
    assert doc.where(("a", "b", "c"), key=True) == ("--set a.b=1", 1, 1)
    assert doc.where(("a",)) == ("f.yaml", 2, 3)


def test_format_path() -> None:
    assert format_path(()) == "$"
    assert (
        format_path(("model", "graph", "layers", 3, "Dense"))
        == "model.graph.layers[3].Dense"
    )
    assert format_path((0, "a")) == "[0].a"


def test_duplicate_key_is_located_at_the_second_occurrence() -> None:
    found = only("a: 1\nb:\n  c: 1\n  d: 2\n  c: 3\n")
    assert (found.line, found.col, found.path, found.code) == (
        5,
        3,
        "b.c",
        "duplicate-key",
    )
    assert "line 3" in found.message
    assert found.hint


def test_duplicate_keys_are_all_reported() -> None:
    found = errors("a: 1\na: 2\nb: 1\nb: 2\n")
    assert [(d.line, d.code) for d in found] == [
        (2, "duplicate-key"),
        (4, "duplicate-key"),
    ]


@pytest.mark.parametrize("spelling", [".nan", ".NaN", ".NAN"])
def test_nan_is_refused(spelling: str) -> None:
    found = only(f"x:\n  lr: {spelling}\n")
    assert (found.line, found.col, found.path, found.code) == (
        2,
        7,
        "x.lr",
        "not-finite",
    )


def test_infinity_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        load_text("a: .inf\nb: -.inf\n", "f")
    assert [(d.line, d.code) for d in info.value.diagnostics] == [
        (1, "not-finite"),
        (2, "not-finite"),
    ]


@pytest.mark.parametrize(
    "stamp", ["2017-01-01", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5"]
)
def test_timestamps_stay_strings(stamp: str) -> None:
    assert load_text(f"name: {stamp}\n", "f").data == {"name": stamp}


def test_yaml_11_booleans_and_numbers() -> None:
    data = load_text("a: yes\nb: off\nc: 0x10\nd: 1_000\ne: ~\nf: '1'\n", "f").data
    assert data == {"a": True, "b": False, "c": 16, "d": 1000, "e": None, "f": "1"}


@pytest.mark.parametrize(
    "text, number",
    [("1e-3", 0.001), ("1E5", 1e5), ("-2e+4", -2e4), ("1.0e5", 1e5), ("+.5e1", 5.0)],
)
def test_floats_are_read_as_yaml_12_reads_them(text: str, number: float) -> None:
    # YAML 1.1 (PyYAML's safe_load) reads these as text; YAML 1.2 as numbers.
    assert yaml.safe_load(f"a: {text}") == {"a": text}
    doc = load_text(f"a:\n  - {text}\n", "f")
    assert doc.data == {"a": [number]} and doc.values[("a", 0)] == (2, 5)


def test_yaml_12_floats_without_libyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("plxgen.compiler.load.FastLoader", None)
    doc = load_text("a: 1e-3\nb: [-2E+4]\n", "f")
    assert doc.data == {"a": 0.001, "b": [-2e4]} and doc.values[("b", 0)] == (2, 5)


def test_text_that_only_looks_like_a_float_stays_text() -> None:
    data = load_text("a: '1e-3'\nb: 1e\nc: e5\nd: 1e-3x\n", "f").data
    assert data == {"a": "1e-3", "b": "1e", "c": "e5", "d": "1e-3x"}


def test_a_learning_rate_written_1e_3_is_the_number() -> None:
    from plxgen.compiler import apply_overrides, check

    text = (ROOT / "generated_examples" / "lenet.yaml").read_text()
    assert "learning_rate: 0.007\n" in text
    as_written = check(load_text(text.replace("0.007\n", "7e-3\n"), "f"))
    assert as_written == check(load_text(text, "f"))
    overridden = apply_overrides(
        load_text(text, "f"), ["model.classifier.optimizer.Adam.learning_rate=1E-3"]
    )
    assert check(overridden) == check(
        load_text(text.replace("0.007\n", "0.001\n"), "f")
    )


def test_merge_keys_are_refused() -> None:
    found = only("base: &b {x: 1}\nuse:\n  <<: *b\n  y: 2\n")
    assert (found.line, found.col, found.code) == (3, 3, "yaml-merge")


def test_self_recursive_alias_is_refused() -> None:
    found = only("version: 1\nx: &a [*a]\n")
    assert found.code == "too-large"


def test_plain_aliases_are_expanded() -> None:
    assert load_text("a: &x [1, 2]\nb: *x\n", "f").data == {"a": [1, 2], "b": [1, 2]}


def test_alias_bomb_is_refused_quickly() -> None:
    lines = [
        'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'
    ]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    found = only("\n".join(lines) + "\n")
    assert found.code == "too-large"


def _nested(depth: int) -> str:
    """A mapping whose value `x` is a list nested `depth` levels below the root."""
    return "x: " + "[" * depth + "]" * depth + "\n"


def test_depth_limit_allows_the_limit() -> None:
    assert load_text(_nested(MAX_DEPTH), "f").data is not None


def test_depth_limit_refuses_one_more() -> None:
    found = only(_nested(MAX_DEPTH + 1))
    assert found.code == "too-large"
    assert str(MAX_DEPTH) in found.message


def test_very_deep_nesting_is_a_diagnostic_not_a_crash() -> None:
    found = only("x: " + "[" * 1000 + "]" * 1000 + "\n")
    assert found.code == "too-large"


def test_tags_are_refused_with_their_position() -> None:
    found = only('a: 1\nb: !!python/object/apply:os.system ["echo hi"]\n')
    assert (found.line, found.col, found.path, found.code) == (2, 4, "b", "yaml-tag")


@pytest.mark.parametrize(
    "value",
    [
        "!!binary aGk=",
        "!!set {a, b}",
        "!!omap [{a: 1}]",
        "!custom x",
        "!!python/name:os.system ''",
    ],
)
def test_every_non_plain_tag_is_refused(value: str) -> None:
    assert only(f"a: {value}\n").code == "yaml-tag"


def test_complex_keys_are_refused() -> None:
    found = only("a: 1\n[x, y]: 2\n")
    assert (found.line, found.code) == (2, "yaml-key")


def test_non_utf8_is_located() -> None:
    found = only("version: 1\nproject:\n  name: caf\xe9\n".encode("latin-1"))
    assert (found.line, found.col, found.code) == (3, 12, "encoding")
    assert "0xe9" in found.message


def test_non_utf8_on_the_first_column() -> None:
    found = only(b"a: 1\n\xff: 2\n")
    assert (found.line, found.col) == (2, 1)


def test_truncated_utf8_at_the_end() -> None:
    found = only("a: é".encode()[:-1])
    assert (found.line, found.col, found.code) == (1, 4, "encoding")


def test_utf8_bom_is_accepted() -> None:
    assert load_bytes(b"\xef\xbb\xbfa: 1\n", "f").data == {"a": 1}


def test_crlf_line_ends_give_the_same_positions() -> None:
    doc = load_bytes(SAMPLE.replace("\n", "\r\n").encode(), "f")
    assert doc.data == load_text(SAMPLE, "f").data
    assert doc.values[("model", "layers", 0, "Dense", "units")] == (7, 16)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "   \n"])
def test_empty_file(text: str) -> None:
    found = only(text.encode())
    assert (found.file, found.line, found.col, found.code) == ("f.yaml", 1, 1, "empty")


def test_too_large_file_is_refused() -> None:
    found = only(b"a: 1\n" + b"#" * 1_000_001)
    assert found.code == "too-large"


def test_syntax_error_is_located() -> None:
    found = only("a: 1\nb: [1, 2\nc: 3\n")
    assert found.code == "yaml-syntax"
    assert found.line == 3
    assert found.message.startswith("invalid YAML: ")


def test_tab_indentation_is_a_syntax_error_at_the_tab() -> None:
    found = only("a:\n  b: 1\n\tc: 2\n")
    assert (found.line, found.col, found.code) == (3, 1, "yaml-syntax")


def test_tab_indentation_has_a_hint() -> None:
    found = only("a:\n  b: 1\n\tc: 2\n")
    assert found.hint is not None and "tab" in found.hint


def test_several_documents_are_refused() -> None:
    assert only("a: 1\n---\nb: 2\n").code == "yaml-syntax"


def _configs() -> list[Path]:
    root = Path(__file__).resolve().parents[2]
    return configs_in(root / "generated_examples", "**/*.yaml") + sorted(
        root.glob("tests/broken/*.yaml")
    )


@pytest.mark.parametrize("config", _configs(), ids=lambda p: p.stem)
def test_libyaml_and_pyyaml_read_the_same_values_at_the_same_places(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        text = config.read_bytes().decode("utf-8-sig")
        fast = load_text(text, "f.yaml")
    except (UnicodeDecodeError, ConfigError):
        return  # refused either way: tests/compiler/test_diagnostics.py has the messages
    monkeypatch.delattr(
        yaml, "CSafeLoader", raising=False
    )  # PyYAML built without libyaml
    slow = load_text(text, "f.yaml")
    assert fast.data == slow.data
    assert fast.keys == slow.keys

    # libyaml places an empty value in a flow mapping (`{HuberLoss: }`) a column later.
    def located(doc: Document) -> dict[Any, tuple[int, int]]:
        return {p: v for p, v in doc.values.items() if _at(doc.data, p) is not None}

    assert located(fast) == located(slow)


def _at(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def test_nesting_too_deep_for_libyaml_is_refused_not_crashed() -> None:
    (error,) = errors("[" * 100_000 + "]" * 100_000)
    assert error.code == "too-large"
