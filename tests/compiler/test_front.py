"""The front end: declarations, sandboxed expressions, for / if operators, tags, model_type."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from plxgen.compiler import compile_config, lower_document
from plxgen.errors import ConfigError
from plxgen.compiler.load import load_text
from plxgen.compiler.front import render_document
from tests.conftest import ROOT, hang_guard

SEED = ROOT / "generated_examples" / "lenet.yaml"


def render(text: str, **matrix: Any) -> Any:
    """The rendered data of a YAML text."""
    doc, _ = render_document(load_text(text, "t.yaml"), matrix or None)
    return doc.data


def errors(text: str) -> list[str]:
    """The formatted diagnostics of rendering a YAML text (it must fail)."""
    with pytest.raises(ConfigError) as info:
        render_document(load_text(text, "t.yaml"))
    return [d.format() for d in info.value.diagnostics]


def value(expression: str, declarations: str = "{}") -> Any:
    """What `x: "EXPRESSION"` renders to with these declarations."""
    text = f"declarations: {declarations}\nx: {yaml.safe_dump(expression).strip()}\n"
    return render(text)["x"]


# ------------------------------------------------------------------ typed results
@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("{{ n }}", 3),
        ("{{ lr }}", 0.5),
        ("{{ sizes }}", [3, 3]),
        ("{{ sizes[0] * n }}", 9),
        ("{{ n > 2 }}", True),
        ("{{ name }}", "relu"),
        ("{{ cnn.values[1] }}", 64),  # a declaration named like a dict method
        ("{{ sizes | length }}", 2),
        (" {{ n }} ", 3),
        ("{{ n }}{{ n }}", 33),  # text that reads as a literal, as in 2017
        ("{{ n }}.5", 3.5),
        ("conv_{{ n }}", "conv_3"),
        ("{{ none }}", None),
        ("plain text", "plain text"),
        ("{{ range(3) | list }}", [0, 1, 2]),
        ("{{ {'a': n} }}", {"a": 3}),
    ],
)
def test_expressions_keep_their_type(expression: str, expected: Any) -> None:
    declarations = "{n: 3, lr: 0.5, sizes: [3, 3], name: relu, cnn: {values: [32, 64]}}"
    result = value(expression, declarations)
    assert result == expected and type(result) is type(expected)


def test_declarations_may_use_each_other_and_matrix_values() -> None:
    data = render("declarations: {a: 2, b: '{{ a * lr }}'}\nx: '{{ b }}'\n", lr=0.25)
    assert data["x"] == 0.5
    assert "declarations" not in data


def test_declarations_see_the_ones_above_them_rendered() -> None:
    data = render("declarations: {a: '{{ 2 }}', b: '{{ a * 3 }}'}\nx: '{{ b }}'\n")
    assert data["x"] == 6


def test_keys_are_rendered() -> None:
    data = render(
        "declarations: {loss: HuberLoss}\nmodel:\n  '{{ loss }}': {clip: 1}\n"
    )
    assert data["model"] == {"HuberLoss": {"clip": 1}}


def test_a_key_rendering_to_an_existing_key_is_an_error() -> None:
    found = errors("declarations: {k: a}\nm:\n  a: 1\n  '{{ k }}': 2\n")
    assert any("[duplicate-key]" in e and "t.yaml:4:3" in e for e in found)


def test_version_is_never_rendered() -> None:
    assert render("version: '{{ 1 }}'\ndeclarations: {}\n")["version"] == "{{ 1 }}"


# ------------------------------------------------------------------ sandbox
@pytest.mark.parametrize(
    "expression",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ lipsum.__globals__['os'] }}",
        "{{ joiner.__init__.__globals__ }}",
        "{{ namespace.__init__ }}",
        "{{ self.__dict__ }}",
        "{{ x.__class__ }}",
        "{{ range.__self__ }}",
        "{{ config }}",
        "{{ request }}",
        "{{ ().__class__.__base__.__subclasses__() }}",
        "{{ x.keys.__self__ }}",
        "{{ x.update({'a': 1}) }}",
        "{{ [].append(1) }}",
        "{{ 'a'.ljust(1000000000) }}",
        "{{ '{0:>1000000000}'.format(1) }}",
        "{{ '%1000000000d' % 1 }}",
        "{{ 'a' | center(1000000000) }}",
        "{{ '%s' | format(1) }}",
        "{{ 'x' * 1000000000 }}",
        "{{ [1] * 1000000000 }}",
        "{{ 1000000000 * 'x' }}",
        "{{ 10 ** 10 ** 10 }}",
        "{{ 2 ** 100000 }}",
        "{{ 2 ** 100 }}",  # fits the sandbox, not int64
        "{{ range(1000000000) | list }}",
        "{{ range(100000) | map('string') | join }}",
        "{{ x.__getitem__ }}",
        "{% for i in range(10) %}{{ i }}{% endfor %}",
        "{{ 1 / 0 }}",
        "{{ nothing }}",
        "{{ 1 + }}",
    ],
)
def test_hostile_expressions_are_located_errors(expression: str) -> None:
    text = (
        f"declarations: {{x: {{a: 1}}}}\nvalue: {yaml.safe_dump(expression).strip()}\n"
    )
    with hang_guard(60):  # bounded work: never a hang
        found = errors(text)
    assert len(found) == 1
    assert found[0].startswith("t.yaml:2:8: error: value: ")
    assert "[template" in found[0] or "[undefined]" in found[0]


def test_loops_cannot_run_without_end() -> None:
    text = (
        "model:\n  layers:\n    - for:\n        len: 10000\n        do:\n"
        "          - for: {len: 10000, do: [{Dense: {units: 1}}]}\n"
    )
    with hang_guard(60):
        found = errors(text)
    assert any("[too-large]" in e for e in found)


# ------------------------------------------------------------------ operators
def test_for_repeats_its_body_with_an_index() -> None:
    data = render(
        "model:\n  layers:\n"
        "    - for:\n        len: 2\n        do:\n"
        "          - Dense: {units: '{{ 8 * (index + 1) }}'}\n"
        "          - Dropout: {rate: 0.1}\n"
        "    - Dense: {units: 1}\n"
    )
    assert data["model"]["layers"] == [
        {"Dense": {"units": 8}},
        {"Dropout": {"rate": 0.1}},
        {"Dense": {"units": 16}},
        {"Dropout": {"rate": 0.1}},
        {"Dense": {"units": 1}},
    ]


def test_for_with_a_named_index_nested_in_an_if() -> None:
    data = render(
        "declarations: {deep: true}\nmodel:\n  layers:\n"
        "    - if:\n        cond: '{{ deep }}'\n        do:\n"
        "          for: {len: 2, index: i, do: {Dense: {units: '{{ i }}'}}}\n"
        "        else_do: {Dense: {units: 9}}\n"
    )
    assert data["model"]["layers"] == [{"Dense": {"units": 0}}, {"Dense": {"units": 1}}]


@pytest.mark.parametrize(
    ("cond", "expected"),
    [("1 == 1", "A"), ("rate > 0.5", "B"), ("'{{ rate }}' == '0.3'", "A"),
     ("1 == {{ sizes[1] }}", "B"), (True, "A"), (0, "B")],
)  # fmt: skip
def test_if_takes_the_branch_its_condition_chooses(cond: Any, expected: str) -> None:
    text = (
        "declarations: {rate: 0.3, sizes: [1, 2]}\nmodel:\n  layers:\n"
        f"    - if: {{cond: {json.dumps(cond)}, do: {{A: }}, else_do: {{B: }}}}\n"
    )
    assert render(text)["model"]["layers"] == [{expected: None}]


def test_if_without_else_makes_nothing() -> None:
    text = "model:\n  layers:\n    - if: {cond: 1 == 2, do: {A: }}\n    - B:\n"
    assert render(text)["model"]["layers"] == [{"B": None}]


def test_operators_need_their_keys() -> None:
    found = errors(
        "model:\n  layers:\n    - for: {do: [{A: }]}\n    - if: {do: {A: }}\n"
    )
    assert any("needs 'len'" in e for e in found)
    assert any("needs 'cond'" in e for e in found)


def test_tags_name_layers_made_by_a_loop() -> None:
    data = render(
        "model:\n  graph:\n    layers:\n"
        "      - for: {len: 2, do: [{Conv2D: {filters: 8, tags: [conv]}}]}\n"
        "      - Flatten: {inbound_nodes: ['{{ tags.conv[0] }}']}\n"
    )
    layers = data["model"]["graph"]["layers"]
    assert [next(iter(layer.values()))["name"] for layer in layers[:2]] == [
        "Conv2D_1",
        "Conv2D_2",
    ]
    assert layers[2]["Flatten"]["inbound_nodes"] == ["Conv2D_1"]


def test_a_diagnostic_inside_a_loop_points_at_the_template_line() -> None:
    text = (
        SEED.read_text()
        .replace(
            "        - Conv2D:\n            filters: 32\n",
            "        - for:\n            len: 2\n            do:\n"
            "              - Conv2D:\n                  filters: '{{ 32 }}'\n                  units: 3\n",
        )
        .replace("            kernel_size: 5\n            strides: 1\n", "", 1)
    )
    doc = load_text(text, "seed.yaml")
    with pytest.raises(ConfigError) as info:
        lower_document(doc, "seed.yaml", "")
    found = [d.format() for d in info.value.diagnostics if "units" in d.path]
    line = text.splitlines().index("                  units: 3") + 1
    assert found and all(f.startswith(f"seed.yaml:{line}:19:") for f in found)
    assert "layers[0].for.do[0].Conv2D.units" in found[0]


# ------------------------------------------------------------------ legacy model_type
def test_legacy_model_type_compiles_like_the_model_kind_key(tmp_path: Path) -> None:
    seed = SEED.read_text()
    legacy = seed.replace(
        "model:\n  classifier:\n", "model:\n  model_type: classifier\n"
    )
    lines = []
    in_model = False
    for line in legacy.splitlines(keepends=True):
        if line.startswith("model:"):
            in_model = True
        elif line[:1] not in (" ", "\n", ""):
            in_model = False
        lines.append(line[2:] if in_model and line.startswith("    ") else line)
    (tmp_path / "new.yaml").write_text(seed)
    (tmp_path / "old.yaml").write_text("".join(lines))
    new = compile_config(tmp_path / "new.yaml", tmp_path / "a.py", [])
    old = compile_config(tmp_path / "old.yaml", tmp_path / "a.py", [])
    assert (
        old.split("\n", 3)[3].replace("old.yaml", "new.yaml") == new.split("\n", 3)[3]
    )


def test_legacy_model_type_positions_point_at_the_source() -> None:
    text = (
        "model:\n  model_type: regressor\n  graph:\n    layers: [{Dense: {unit: 1}}]\n"
    )
    doc, sources = render_document(load_text(text, "t.yaml"))
    assert doc.data == {
        "model": {"regressor": {"graph": {"layers": [{"Dense": {"unit": 1}}]}}}
    }
    assert doc.where(("model", "regressor", "graph", "layers", 0, "Dense"))[1] == 4
    assert sources["model.regressor.graph"] == "model.graph"


def test_files_without_templating_are_untouched() -> None:
    doc = load_text(SEED.read_text(), "seed.yaml")
    assert render_document(doc) == (doc, {})
