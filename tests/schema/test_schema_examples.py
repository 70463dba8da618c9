"""The schema documents itself for editors: description, default and example per property."""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

import jsonschema
import pytest

from plxgen.schema.examples import enum_text
from plxgen.compiler.validate import schema_text

SCHEMA = json.loads(schema_text())
# A default in words, where no value says it ("Default: the previous layer.").
IN_WORDS = re.compile(r"\b[Dd]efault\b")


def properties() -> Iterator[tuple[str, str, dict[str, Any], bool]]:
    """(path, name, schema, required) for every property of the schema.

    A name of a family (`Adam` under `optimizer`, `Conv2D` under `layer`) counts
    as required when it has required arguments: it has no default then.
    """

    def walk(node: Any, path: str) -> Iterator[tuple[str, str, dict[str, Any], bool]]:
        if isinstance(node, dict):
            required = set(node.get("required", []))
            family = "propertyNames" in node
            for name, sub in (node.get("properties") or {}).items():
                if isinstance(sub, dict):
                    needs = name in required or (family and bool(sub.get("required")))
                    yield f"{path}.{name}", name, sub, needs
            for key, value in node.items():
                yield from walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from walk(value, f"{path}[{i}]")

    return walk(SCHEMA, "$")


def valid(value: Any, schema: dict[str, Any]) -> bool:
    wrapped = {**schema, "definitions": SCHEMA["definitions"]}
    return bool(jsonschema.Draft7Validator(wrapped).is_valid(value))


def test_is_draft_07_for_yaml_language_server() -> None:
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(SCHEMA)


def test_at_least_90_percent_of_properties_have_description_default_and_example() -> (
    None
):
    counts = {"all": 0, "description": 0, "examples": 0, "default": 0, "complete": 0}
    incomplete = []
    for path, _, prop, required in properties():
        counts["all"] += 1
        described = "description" in prop or "$ref" in prop
        has_example = bool(prop.get("examples"))
        default = (
            "default" in prop
            or required
            or bool(IN_WORDS.search(prop.get("description", "")))
        )
        counts["description"] += described
        counts["examples"] += has_example
        counts["default"] += default
        if described and has_example and default:
            counts["complete"] += 1
        else:
            incomplete.append(path)
    assert counts["all"] > 1500  # layers, losses, optimizers, metrics, sections
    share = counts["complete"] / counts["all"]
    assert share >= 0.9, (counts, incomplete[:30])


def test_every_example_is_a_value_the_schema_accepts() -> None:
    wrong = []
    for path, _, prop, _ in properties():
        for example in prop.get("examples", []):
            if not valid(example, prop):
                wrong.append(f"{path}: example {example!r}")
    assert not wrong, wrong[:20]


@pytest.mark.parametrize(
    "path, expected",
    [
        (("else", "properties", "train", "properties", "train_steps"), 10000),
        (("definitions", "layer", "anyOf", 1, "properties", "Conv2D", "properties", "filters"), 32),  # fmt: skip
        (("definitions", "layer", "anyOf", 1, "properties", "Dense", "properties", "kernel_regularizer"), {"L2": {"l": 0.0001}}),  # fmt: skip
    ],
)
def test_examples_are_what_a_user_writes(path: tuple[Any, ...], expected: Any) -> None:
    node: Any = SCHEMA
    for key in path:
        node = node[key]
    assert node["examples"] == [expected]


def test_enums_list_their_values_in_the_description() -> None:
    missing = [
        path
        for path, _, prop, _ in properties()
        if "enum" in prop
        and len(prop["enum"]) <= 30
        and not all(f"`{enum_text(v)}`" in prop["description"] for v in prop["enum"])
    ]
    assert not missing, missing[:20]
    padding = SCHEMA["definitions"]["layer"]["anyOf"][1]["properties"]["Conv2D"]
    assert "One of: `valid`, `same`" in padding["properties"]["padding"]["description"]


def test_committed_reference_page_is_up_to_date() -> None:
    from plxgen.schema import build as schemagen
    from tests.conftest import ROOT

    page = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    assert page == schemagen.render_docs(), "run: python -m plxgen.schema.build --docs"
    # Every link on the page points at a heading of the page.
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in page.splitlines()
        if line.startswith("#")
    }
    links = set(re.findall(r"\]\(#([^)]+)\)", page))
    assert links and links <= anchors, links - anchors
