"""schemas/keras_layers.json against the installed Keras 3 layers.

Every layer must construct from sample values of its required properties, every
value shape its property schemas allow must construct too, every default must
validate against its own property schema, and the committed file must be what
`tools/gen_keras_layers.py` writes.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import keras
import pytest

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "tools" / "gen_keras_layers.py"
DOCUMENT: dict[str, Any] = json.loads(
    (REPO / "schemas" / "keras_layers.json").read_text()
)
LAYERS: dict[str, Any] = DOCUMENT["layers"]

# The definitions plxgen's experiment schema provides, stubbed to accept anything.
STUB_DEFINITIONS: dict[str, Any] = {
    name: {}
    for name in ("initializer", "regularizer", "constraint", "activation", "layer")
}

# Sample values of required properties, by name.
SAMPLES: dict[str, Any] = {
    "units": 4,
    "filters": 2,
    "kernel_size": 3,
    "pool_size": 2,
    "target_shape": [4],
    "dims": [2, 1],
    "n": 2,
    "rate": 0.5,
    "input_dim": 10,
    "output_dim": 4,
    "layer": {"Dense": {"units": 2}},
    "activation": "relu",
    "axes": 1,
    "stddev": 0.1,
    "num_heads": 2,
    "key_dim": 4,
    "scale": 1 / 255,
    "height": 4,
    "width": 4,
    "factor": 0.1,
    "height_factor": 0.1,
    "width_factor": 0.1,
    "num_tokens": 4,
}
# Sample values for one layer's property, where the name's sample does not fit.
LAYER_SAMPLES: dict[tuple[str, str], Any] = {
    ("Bidirectional", "layer"): {"LSTM": {"units": 2}},
}
# Properties Keras only takes together.
TOGETHER: dict[tuple[str, str], str] = {
    ("Normalization", "mean"): "variance",
    ("Normalization", "variance"): "mean",
}


def load_tool() -> ModuleType:
    """Import tools/gen_keras_layers.py as a module."""
    spec = importlib.util.spec_from_file_location("gen_keras_layers", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def validator(schema: dict[str, Any]) -> jsonschema.Draft7Validator:
    """A Draft 7 validator of one property schema, its $refs resolved to the stubs."""
    return jsonschema.Draft7Validator({**schema, "definitions": STUB_DEFINITIONS})


def is_layer_ref(schema: dict[str, Any]) -> bool:
    """Whether a property holds a nested layer (TimeDistributed, Bidirectional)."""
    branches = [schema, *schema.get("anyOf", [])]
    return any(branch.get("$ref") == "#/definitions/layer" for branch in branches)


def to_keras(schema: dict[str, Any], value: Any) -> Any:
    """A plxgen value as Keras takes it: `{Name: {args}}` layers become instances."""
    if value is not None and is_layer_ref(schema):
        ((name, args),) = value.items()
        return getattr(keras.layers, name)(**args)
    return value


def sample(layer: str, name: str) -> Any:
    """The sample value of a required property."""
    return LAYER_SAMPLES.get((layer, name), SAMPLES.get(name))


def required_args(layer: str) -> dict[str, Any]:
    """Keras keyword arguments built from the samples of the required properties."""
    spec = LAYERS[layer]
    return {
        name: to_keras(spec["properties"][name], sample(layer, name))
        for name in spec["required"]
    }


def construct(layer: str, **overrides: Any) -> keras.layers.Layer:
    """Build the layer from its required samples plus `overrides`."""
    return getattr(keras.layers, layer)(**{**required_args(layer), **overrides})


_CANDIDATES: dict[str, list[Any]] = {
    "integer": [0, 1, -1, 2],
    "number": [0.5, 0.0, 1.0, -0.5],
    "boolean": [True, False],
    "null": [None],
    "string": ["x"],
    "object": [{}],
}


def values_of(schema: dict[str, Any]) -> list[Any]:
    """One value per alternative (anyOf branch, type, enum member) of a value schema."""
    if "$ref" in schema:
        return []
    if "anyOf" in schema:
        return [value for branch in schema["anyOf"] for value in values_of(branch)]
    if "enum" in schema:
        return list(schema["enum"])
    if "const" in schema:
        return [schema["const"]]
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    values: list[Any] = []
    for kind in kinds:
        if kind == "array":
            items = values_of(schema.get("items", {"type": "number"}))[:1] or [1.0]
            values.append(items * schema.get("minItems", 1))
            continue
        branch = {key: val for key, val in schema.items() if key != "type"}
        fitting = [
            v
            for v in _CANDIDATES[kind]
            if validator({**branch, "type": kind}).is_valid(v)
        ]
        values.extend(fitting if kind == "boolean" else fitting[:1])
    return values


def all_properties() -> list[tuple[str, str]]:
    """Every (layer, property) pair of the document."""
    return [
        (layer, name) for layer, spec in LAYERS.items() for name in spec["properties"]
    ]


def test_vocabulary_is_covered() -> None:
    tool = load_tool()
    expected = (
        set(tool.VOCABULARY_2017) | set(tool.MODERN_LAYERS) | set(tool.REMOVED_ADVICE)
    )
    assert (
        set(LAYERS) | set(DOCUMENT["removed"]) | set(DOCUMENT["unsupported"])
        == expected
    )
    assert "Cast" not in LAYERS
    assert DOCUMENT["keras_version"] == keras.__version__
    for name in LAYERS:
        assert isinstance(getattr(keras.layers, name, None), type), name
    for name in DOCUMENT["removed"]:
        assert not hasattr(keras.layers, name), name
    assert DOCUMENT["removed"]["ThresholdedReLU"] == "use ReLU with threshold=THETA"
    assert "threshold" in LAYERS["ReLU"]["properties"]


def test_layer_entries_are_well_formed() -> None:
    merges = {
        "Add",
        "Subtract",
        "Multiply",
        "Average",
        "Maximum",
        "Minimum",
        "Concatenate",
        "Dot",
    }
    for name, spec in LAYERS.items():
        assert set(spec) == {
            "description",
            "properties",
            "required",
            "merge",
            "wrapper",
        }, name
        assert spec["description"], name
        assert set(spec["required"]) <= set(spec["properties"]), name
        assert spec["merge"] == (name in merges), name
        assert spec["wrapper"] == (name in {"TimeDistributed", "Bidirectional"}), name
        for base in (
            "name",
            "trainable",
            "dtype",
            "autocast",
            "input_shape",
            "batch_size",
        ):
            assert base not in spec["properties"], (name, base)


@pytest.mark.parametrize("layer,name", all_properties())
def test_property_schema_is_valid_and_described(layer: str, name: str) -> None:
    schema = LAYERS[layer]["properties"][name]
    jsonschema.Draft7Validator.check_schema({**schema, "definitions": STUB_DEFINITIONS})
    assert schema.get("description"), (layer, name)
    if name not in LAYERS[layer]["required"]:
        assert "default" in schema, (layer, name)


@pytest.mark.parametrize("layer,name", all_properties())
def test_default_validates_against_its_property(layer: str, name: str) -> None:
    schema = LAYERS[layer]["properties"][name]
    if "default" in schema:
        validator(schema).validate(schema["default"])


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_layer_constructs_from_required_samples(layer: str) -> None:
    spec = LAYERS[layer]
    for name in spec["required"]:
        value = sample(layer, name)
        assert (
            value is not None
        ), f"no sample value for {layer}.{name}: add one to SAMPLES"
        validator(spec["properties"][name]).validate(value)
    assert isinstance(construct(layer), keras.layers.Layer)


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_layer_accepts_its_json_defaults(layer: str) -> None:
    properties = LAYERS[layer]["properties"]
    defaults = {
        name: to_keras(schema, schema["default"])
        for name, schema in properties.items()
        if "default" in schema
    }
    construct(layer, **defaults)


@pytest.mark.parametrize("layer,name", all_properties())
def test_layer_accepts_every_value_shape_of_a_property(layer: str, name: str) -> None:
    schema = LAYERS[layer]["properties"][name]
    for value in values_of(schema):
        validator(schema).validate(value)
        overrides = {name: value}
        partner = TOGETHER.get((layer, name))
        if partner is not None:
            overrides[partner] = value
        try:
            construct(layer, **overrides)
        except Exception as error:  # noqa: BLE001 - report which value Keras refused
            pytest.fail(
                f"keras.layers.{layer}({name}={value!r}) raised {type(error).__name__}: {error}"
            )


def test_committed_file_is_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(TOOL), "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_check_reports_a_stale_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool = load_tool()
    stale = tmp_path / "keras_layers.json"
    stale.write_text("{}\n")
    monkeypatch.setattr(tool, "OUTPUT", stale)
    assert tool.main(["--check"]) == 1
    assert stale.read_text() == "{}\n"
