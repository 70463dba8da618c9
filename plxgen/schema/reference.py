"""docs/reference.md, generated from the schema: `python -m plxgen.schema.build --docs`.

One table per section of the experiment file, then one per family of names
(layers, losses, optimizers, metrics, ...), each row a property with its
type, default, example and description, as the schema holds them.
"""

from __future__ import annotations

import json
from typing import Any

from plxgen.schema.registry import JSON

_FAMILIES = [
    ("Losses", "model.classifier.loss / model.regressor.loss", ("properties", "model", "properties", "classifier", "properties", "loss", "anyOf", 1)),  # fmt: skip
    ("Optimizers", "model.*.optimizer", ("properties", "model", "properties", "classifier", "properties", "optimizer", "anyOf", 1)),  # fmt: skip
    ("Metrics", "model.*.metrics[]", ("properties", "model", "properties", "classifier", "properties", "metrics", "items", "anyOf", 1)),  # fmt: skip
    ("Data pipelines", "train.data_pipeline / eval.data_pipeline", ("else", "properties", "train", "properties", "data_pipeline")),  # fmt: skip
    ("Feature processors", "feature_processors.FEATURE.layers[]", ("definitions", "feature_processor_graph", "properties", "layers", "items", "anyOf", 1)),  # fmt: skip
    ("Initializers", "*_initializer", ("definitions", "initializer", "anyOf", 1)),
    ("Regularizers", "*_regularizer", ("definitions", "regularizer", "anyOf", 1)),
    ("Constraints", "*_constraint", ("definitions", "constraint", "anyOf", 1)),
    ("Layers", "model.*.graph.layers[]", ("definitions", "layer", "anyOf", 1)),
]


def _anchor(title: str) -> str:
    """The anchor of a heading: `Feature processors` -> `feature-processors`."""
    return title.replace(".", "").lower().replace(" ", "-")


# Where each shared definition is described on the page: under its family.
_ANCHORS = {
    path[1]: _anchor(title) for title, _, path in _FAMILIES if path[0] == "definitions"
}


def _at(schema: JSON, path: tuple[Any, ...]) -> Any:
    node: Any = schema
    for key in path:
        node = node[key]
    return node


def _code(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    text = text.replace("|", "\\|")
    if len(text) > 70:
        text = text[:67] + "..."
    return f"`{text}`"


def _type(prop: JSON) -> str:
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{_ANCHORS.get(name, name)})"
    if "const" in prop:
        return _code(prop["const"])
    if "enum" in prop:
        return "enum"
    if "anyOf" in prop:
        return " or ".join(dict.fromkeys(_type(b) for b in prop["anyOf"]))
    kind = prop.get("type", "any")
    kinds = [kind] if isinstance(kind, str) else kind
    shown = []
    for k in kinds:
        if k == "array" and "items" in prop:
            shown.append(f"list of {_type(prop['items'])}")
        elif k == "object" and "propertyNames" in prop:
            shown.append("one of the names below")
        else:
            shown.append(k)
    return " or ".join(shown)


def _text(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _table(properties: JSON, required: list[str]) -> list[str]:
    rows = [
        "| property | type | default | example | description |",
        "|---|---|---|---|---|",
    ]
    for name, prop in sorted(properties.items()):
        if "default" in prop:
            default = _code(prop["default"])
        elif name in required:
            default = "**required**"
        else:
            default = ""
        example = _code(prop["examples"][0]) if prop.get("examples") else ""
        rows.append(
            f"| `{name}` | {_type(prop)} | {default} | {example} | {_text(prop.get('description', ''))} |"
        )
    return rows


def _section(title: str, schema: JSON, level: int, out: list[str]) -> None:
    """A heading and a table for an object schema, then its object-valued properties."""
    out += [f"{'#' * level} {title}", "", _text(schema.get("description", "")), ""]
    properties = schema.get("properties", {})
    if not properties:
        return
    out += _table(properties, schema.get("required", []))
    out.append("")
    for name, prop in sorted(properties.items()):
        if prop.get("type") in ("object", ["object", "null"]) and "properties" in prop:
            if "propertyNames" not in prop:
                _section(f"{title}.{name}", prop, min(level + 1, 4), out)


def render_reference(schema: JSON) -> str:
    """The whole reference page, in Markdown."""
    out = [
        "<!-- Generated from schemas/experiment.schema.json by `python -m plxgen.schema.build --docs`. Do not edit. -->",
        "# Experiment file reference",
        "",
        "Every key of a plxgen experiment file (`version: 1`), with its type, default,",
        "an example and what it does. Editors show the same text from the JSON Schema",
        "(`plxgen schema`). A name from a family (a layer, a loss, ...) is written as a",
        "one-key mapping `Name: {arguments}`, or as a bare `Name` when it needs no",
        "argument.",
        "",
        "## Contents",
        "",
    ]
    # train and eval of supervised models (RL models have their own, under `then`).
    top = {**schema["properties"], **schema.get("else", {}).get("properties", {})}
    sections = [n for n in top if "properties" in top[n] and n != "model"] + [
        "model.classifier",
        "model.regressor",
        "graph",
    ]
    families = [title for title, _, _ in _FAMILIES]
    for title in sections + families + ["activation", "dtype"]:
        out.append(f"- [{title}](#{_anchor(title)})")
    out.append("")
    out += _table(top, schema.get("required", []))
    out.append("")
    for name in sections[:-3]:
        _section(name, top[name], 2, out)
    model = top["model"]["properties"]
    for kind in ("classifier", "regressor"):
        _section(f"model.{kind}", model[kind], 2, out)
    _section("graph", schema["definitions"]["graph"], 2, out)
    for title, where, path in _FAMILIES:
        family = _at(schema, path)
        out += [f"## {title}", "", f"Written under `{where}`.", ""]
        for name, entry in sorted(family["properties"].items()):
            out += [f"### {name}", "", _text(entry.get("description", "")), ""]
            if entry.get("properties"):
                out += _table(entry["properties"], entry.get("required", []))
                out.append("")
    for name in ("activation", "dtype"):
        definition = schema["definitions"][name]
        out += [f"## {name}", "", _text(definition["description"]), ""]
        out += [", ".join(f"`{v}`" for v in definition["enum"]), ""]
    return "\n".join(out).rstrip("\n") + "\n"
