"""The committed schema is up to date and accepts exactly the vocabulary."""

from __future__ import annotations

import json

import jsonschema
import yaml

from plxgen.schema import build as schemagen
from plxgen.compiler.load import load_text
from plxgen.compiler.matrix import Axis, axes, combinations
from plxgen.compiler.front import render_document
from plxgen.compiler.validate import schema_text
from tests.conftest import ROOT, configs_in


def test_committed_schema_is_up_to_date() -> None:
    assert schema_text() == schemagen.render_schema(), "run: python -m plxgen.schema.build"


def test_schema_accepts_every_example_and_rejects_a_misspelt_layer() -> None:
    validator = jsonschema.Draft7Validator(json.loads(schema_text()))
    configs = configs_in(ROOT / "generated_examples", "**/*.yaml")
    for config in configs:
        doc = load_text(config.read_text(), str(config))
        # The file as written: `declarations` and `matrix` are described too.
        matrix = jsonschema.Draft7Validator(validator.schema["properties"]["matrix"])
        assert not list(
            matrix.iter_errors(doc.data.get("matrix", {"a": {"values": [1]}}))
        )
        for combination in combinations(config.stem, axes(doc) or [Axis("_", (0,))]):
            rendered, _ = render_document(
                doc, combination.values if "matrix" in doc.data else None
            )
            assert not list(validator.iter_errors(rendered.data)), config
    seed = yaml.safe_load((ROOT / "generated_examples" / "lenet.yaml").read_text())
    seed["model"]["classifier"]["graph"]["layers"][0] = {
        "Conv2d": {"filters": 32, "kernel_size": 5}
    }
    assert list(validator.iter_errors(seed))


def test_every_property_is_described() -> None:
    missing = []

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                if (
                    isinstance(sub, dict)
                    and "description" not in sub
                    and "$ref" not in sub
                ):
                    missing.append(f"{path}.{name}")
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    walk(json.loads(schema_text()), "$")
    assert not missing, missing[:20]
