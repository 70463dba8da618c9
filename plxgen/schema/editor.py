"""The editor schema: the strict schema, widened to what the compiler takes before templating.

The compiler validates a document after its front end (plxgen.compiler.front)
has rendered `{{ }}` expressions, expanded the `for` / `if` operators and
rewritten the 2017 `model: {model_type: KIND, ...}` spelling; it validates
with the strict schema (`build_schema()`). Editors and pre-commit hooks see
the file as written, so the schema published for them (`plxgen schema`,
`plxgen init`) is derived here from that same strict schema:

- every value the front end renders may instead be a templated string (one
  holding `{{`, none holding `{%`), and every key it renders a templated key;
- every list under `model`, `train` and `eval` may hold the `for` / `if`
  operators, whose bodies are items of the same list (or operators again);
- `model` may be written in the 2017 form, marked deprecated for editors
  (yaml-language-server's `deprecationMessage`) with a pointer to
  `plxgen upgrade`;
- an initializer may be a 2017 name written bare (`kernel_initializer: Ones`),
  which plxgen.compiler.compat reads as its mapping.

It is also narrowed by the rules between fields of one mapping that lowering
checks and a schema can say (`_RULES`: one_hot_encode needs n_classes, a
decay by decay_rate needs one above 0), so that editors flag them too; the
compiler's own diagnostics for them stay lowering's.

Nothing else is widened: where no template is involved, a misspelt key, a
wrong type or an unknown name is rejected as the strict schema rejects it.
`version`, `declarations` and `matrix` are not rendered by the front end and
stay as they are.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from plxgen.schema.registry import (
    IDENTIFIER,
    INITIALIZERS,
    JSON,
    MODEL_KINDS,
    OPERATOR_SECTIONS,
)
from plxgen.schema.registry.optimizers import DECAYS

TEMPLATE_REF = "#/definitions/template"
# A key or value the front end renders: it holds `{{`; `{%` statements are rejected.
TEMPLATED = "\\{\\{"
STATEMENT = "\\{%"
TEMPLATE: JSON = {
    "type": "string",
    "pattern": TEMPLATED,
    "not": {"pattern": STATEMENT},
    "description": "A templated value: `{{ expression }}` (or text holding expressions), "
    "rendered from `declarations` and the matrix before the file is checked.",
}
# Sections the front end renders, and those whose lists take the operators.
_RENDERED_OUTSIDE = ("version", "declarations", "matrix")
# Keywords that describe a value for editors rather than constrain it.
_ANNOTATIONS = (
    "title",
    "description",
    "markdownDescription",
    "default",
    "examples",
    "deprecationMessage",
)
# Rules of lowering between the fields of one mapping: (the fields, if, then).
_RULES: list[tuple[tuple[str, ...], JSON, JSON]] = [
    (
        ("one_hot_encode", "n_classes"),
        {
            "properties": {"one_hot_encode": {"const": True}},
            "required": ["one_hot_encode"],
        },
        {"required": ["n_classes"]},
    ),
    (
        ("decay_type", "decay_rate"),
        {
            "properties": {
                "decay_type": {
                    "enum": sorted(k for k, d in DECAYS.items() if d.needs_rate)
                }
            },
            "required": ["decay_type"],
        },
        {
            "required": ["decay_rate"],
            "properties": {"decay_rate": {"not": {"const": 0}}},
        },
    ),
]
UPGRADE = (
    "`model_type` is the 2017 spelling of the model kind: "
    "run `plxgen upgrade FILE` to rewrite it as `model: {KIND: {...}}`."
)


def editor_schema(strict: JSON, schema_id: str) -> JSON:
    """The editor schema derived from the (annotated) strict schema."""
    source = copy.deepcopy(strict)
    source["properties"]["model"] = _with_legacy_model(source["properties"]["model"])
    _with_bare_initializers(source["definitions"]["initializer"])
    widen = _Widen()
    schema: JSON = {}
    for key, value in source.items():
        if key == "properties":
            schema[key] = widen.sections(value)
        elif key in ("then", "else"):
            schema[key] = {**value, "properties": widen.sections(value["properties"])}
        elif key == "definitions":
            schema[key] = {name: widen.value(sub, True) for name, sub in value.items()}
        else:
            schema[key] = value
    schema["$id"] = schema_id
    schema["title"] = (
        strict["title"] + ", as written: templates, operators, 2017 spellings"
    )
    schema["definitions"].update(widen.definitions)
    schema["definitions"]["template"] = TEMPLATE
    return schema


def _with_bare_initializers(initializer: JSON) -> None:
    """The initializer's strings, with the 2017 names written bare (`Ones`)."""
    for option in initializer["anyOf"]:
        if option.get("type") == "string" and "enum" in option:
            option["enum"] = [*option["enum"], *INITIALIZERS]


def _with_legacy_model(model: JSON) -> JSON:
    """`model:` in either form: `{KIND: {...}}`, or the 2017 `{model_type: KIND, ...}`."""
    kinds = model["properties"]
    legacy = []
    for kind in MODEL_KINDS:
        fields = kinds[kind]
        legacy.append(
            {
                "type": "object",
                "description": f"The 2017 spelling of `{kind}:` (deprecated).",
                "deprecationMessage": UPGRADE.replace("KIND", kind),
                "properties": {
                    "model_type": {
                        "const": kind,
                        "description": f"The model kind, 2017 spelling: write `model: {{{kind}: {{...}}}}`.",
                        "deprecationMessage": UPGRADE.replace("KIND", kind),
                    },
                    **fields["properties"],
                },
                "required": ["model_type", *fields.get("required", [])],
                "additionalProperties": False,
            }
        )
    annotations = {k: model[k] for k in _ANNOTATIONS if k in model}
    return {**annotations, "anyOf": [model, *legacy]}


class _Widen:
    """The walk that widens a schema; it collects the definitions of operator lists."""

    def __init__(self) -> None:
        self.definitions: dict[str, JSON] = {}
        self._lists: dict[str, str] = {}

    def sections(self, properties: JSON) -> JSON:
        """The top-level sections: each rendered one widened, operators where they apply."""
        return {
            name: (
                sub
                if name in _RENDERED_OUTSIDE
                else self.value(sub, name in OPERATOR_SECTIONS)
            )
            for name, sub in properties.items()
        }

    def value(self, node: Any, ops: bool) -> Any:
        """A value's schema, or a templated string in its place."""
        if not isinstance(node, dict) or "$ref" in node:
            return node  # a definition is widened once, where it is defined
        inner = self.inside(node, ops)
        if not set(inner) - set(_ANNOTATIONS):
            return inner  # it takes any value already
        outer = {k: inner.pop(k) for k in _ANNOTATIONS if k in inner}
        branches = inner["anyOf"] if set(inner) == {"anyOf"} else [inner]
        return {**outer, "anyOf": [*branches, {"$ref": TEMPLATE_REF}]}

    def inside(self, node: JSON, ops: bool) -> JSON:
        """The same schema with everything below it widened (not the value itself)."""
        out = dict(node)
        if "properties" in node:
            out["properties"] = {
                k: self.value(v, ops) for k, v in node["properties"].items()
            }
        if "patternProperties" in node:
            out["patternProperties"] = {
                k: self.value(v, ops) for k, v in node["patternProperties"].items()
            }
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            out["additionalProperties"] = self.value(extra, ops)
        elif extra is False:
            # A templated key is checked once it is rendered.
            out["patternProperties"] = {
                **out.get("patternProperties", {}),
                TEMPLATED: {},
            }
        names = node.get("propertyNames")
        if isinstance(names, dict) and "enum" in names:
            out["propertyNames"] = {"anyOf": [names, {"pattern": TEMPLATED}]}
        if isinstance(node.get("items"), dict):
            items = self.value(node["items"], ops)
            out["items"] = self.operator_items(items) if ops else items
        for keyword in ("anyOf", "oneOf", "allOf"):
            if keyword in node:
                out[keyword] = [self.inside(branch, ops) for branch in node[keyword]]
        for keyword in ("then", "else"):
            if keyword in node:
                out[keyword] = self.inside(node[keyword], ops)
        fields = node.get("properties", {})
        rules = [
            {"if": when, "then": then}
            for names, when, then in _RULES
            if all(name in fields for name in names)
        ]
        if rules:
            out["allOf"] = [*out.get("allOf", []), *rules]
        return out

    def operator_items(self, items: JSON) -> JSON:
        """A list's items, or the `for` / `if` operators making them (one definition per list kind)."""
        key = json.dumps(items, sort_keys=True)
        name = self._lists.get(key)
        if name is None:
            ref = items.get("$ref", "")
            base = ref.rsplit("/", 1)[-1] if ref else "item"
            name = f"{base}_or_operator"
            n = 1
            while name in self.definitions:
                n += 1
                name = f"{base}_or_operator_{n}"
            self._lists[key] = name
            self.definitions[name] = {}  # reserved before the operators refer to it
            self.definitions[name] = _items_or_operators(items, f"#/definitions/{name}")
        return {"$ref": f"#/definitions/{name}"}


def _items_or_operators(items: JSON, self_ref: str) -> JSON:
    item = {"$ref": self_ref}
    body = {"anyOf": [item, {"type": "array", "items": item}]}
    for_op: JSON = {
        "type": "object",
        "description": "Repeat items: `for: {len: N, index: i, do: [...]}`; `{{ i }}` is the position.",
        "properties": {
            "len": {
                "description": "How many times (a whole number, or a template).",
                "anyOf": [{"type": "integer", "minimum": 0}, {"$ref": TEMPLATE_REF}],
            },
            "index": {
                "description": "The name of the position in expressions (default `index`).",
                "type": "string",
                "pattern": IDENTIFIER,
            },
            "do": {**body, "description": "The item, or items, made each time."},
        },
        "required": ["len", "do"],
        "additionalProperties": False,
    }
    optional = {"anyOf": [{"type": "null"}, *body["anyOf"]]}
    if_op: JSON = {
        "type": "object",
        "description": "Items under a condition: `if: {cond: ..., do: [...], else_do: [...]}`.",
        "properties": {
            "cond": {
                "description": "An expression (`dropout > 0`), or a template rendering to one.",
                "type": ["string", "boolean", "number", "null"],
            },
            "do": {**optional, "description": "The item, or items, when cond holds."},
            "else_do": {**optional, "description": "The item, or items, otherwise."},
        },
        "required": ["cond", "do"],
        "additionalProperties": False,
    }
    return {
        "anyOf": [
            items,
            _operator("for", for_op),
            _operator("if", if_op),
        ]
    }


def _operator(name: str, spec: JSON) -> JSON:
    return {
        "type": "object",
        "description": spec["description"],
        "properties": {name: spec},
        "required": [name],
        "additionalProperties": False,
    }


# Keywords whose value is a schema, a list of schemas, or a mapping of names to
# schemas; every other keyword's value is data (enum, const, examples, default)
# or a mapping of names that is no schema itself (`properties`).
_SCHEMA_KEYWORDS = (
    "items",
    "additionalProperties",
    "additionalItems",
    "propertyNames",
    "contains",
    "not",
    "if",
    "then",
    "else",
)
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "items")
_SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "dependencies")
# A subschema shorter than this (as JSON) stays where it is: a $ref saves little.
SHARED_MIN_CHARS = 200


def _subschemas(node: JSON) -> list[tuple[Any, Any, JSON]]:
    """(container, key, subschema) of each schema directly below node."""
    found: list[tuple[Any, Any, JSON]] = []
    for keyword, value in node.items():
        if keyword in _SCHEMA_KEYWORDS and isinstance(value, dict):
            found.append((node, keyword, value))
        elif keyword in _SCHEMA_LISTS and isinstance(value, list):
            found += [(value, i, v) for i, v in enumerate(value) if isinstance(v, dict)]
        elif keyword in _SCHEMA_MAPS and isinstance(value, dict):
            found += [(value, k, v) for k, v in value.items() if isinstance(v, dict)]
    return found


def _key(schema: JSON) -> str:
    return json.dumps(schema, sort_keys=True, separators=(",", ":"))


def shared(schema: JSON) -> JSON:
    """The same schema with each repeated subschema defined once and referred to.

    The editor schema repeats large parts (a layer's arguments under every
    operator list, the kinds' fields in the 2017 form, ...): each subschema
    written more than once, of at least SHARED_MIN_CHARS, becomes
    `definitions.shared_<hash>` and its places `{"$ref": ...}`. What it accepts
    and every description and example are unchanged: only where they are
    written moves. Names are content hashes, so the output stays deterministic.
    """
    import hashlib

    schema = copy.deepcopy(schema)
    counts: dict[str, int] = {}
    stack: list[JSON] = [schema]
    while stack:
        node = stack.pop()
        for _, _, sub in _subschemas(node):
            text = _key(sub)
            counts[text] = counts.get(text, 0) + 1
            stack.append(sub)
    repeated = {t for t, n in counts.items() if n > 1 and len(t) >= SHARED_MIN_CHARS}
    moved: dict[str, JSON] = {}

    def name(text: str) -> str:
        return "shared_" + hashlib.sha256(text.encode()).hexdigest()[:12]

    def replace_below(node: JSON) -> None:
        for container, key, sub in _subschemas(node):
            text = _key(sub)
            if text in repeated:
                ref = name(text)
                if ref not in moved:
                    moved[ref] = sub
                    replace_below(sub)
                container[key] = {"$ref": f"#/definitions/{ref}"}
            else:
                replace_below(sub)

    replace_below(schema)
    schema["definitions"].update(moved)
    return schema
