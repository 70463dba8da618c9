"""The shapes the experiment-file schema is made of, and its rules for strings.

A family of names (losses, layers, ...) is a single-key mapping `Name: {args}`
(`named`), whose arguments come from a registry `Entry` (`args_object`); paths
and names must not hold control characters (`no_control`), and layer and model
names only what a TensorFlow name scope takes (`SCOPE`).
"""

from __future__ import annotations

from typing import Any, Mapping

from plxgen.schema.registry import JSON, Entry

# Characters a path or a name must not hold: C0 and C1 control characters
# (a NUL, a newline or a tab in a file name only fails later, and less clearly).
CONTROL = "\\u0000-\\u001f\\u007f-\\u009f"
CONTROL_HINT = (
    "write it on one line, without control characters (newline, tab, NUL, ...)"
)
# Keras and TensorFlow use layer and model names as name scopes, which take
# only these characters (and Keras no `/`); a model name is a root scope,
# which starts with a letter, a digit or a dot.
SCOPE = "A-Za-z0-9_.>-"
NAME_HINT = "use only letters, digits, `_`, `.`, `-` and `>`: TensorFlow name scopes take nothing else"


def forbid(characters: str, hint: str) -> JSON:
    """`not: {type: string, pattern: [characters]}`: no string holding one of them.

    validate.py reports the first offending character and uses `description`
    as the hint. A `^[^...]*$` pattern would let a trailing newline through,
    and `type` inside the `not` leaves a value of another type to the
    property's own `type` instead of reporting it twice.
    """
    return {
        "not": {"type": "string", "pattern": f"[{characters}]", "description": hint}
    }


def no_control(schema: JSON) -> JSON:
    """The same schema, its strings (also inside anyOf and items) without control characters."""
    schema = dict(schema)
    if schema.get("type") == "string" and "enum" not in schema:
        schema.update(forbid(CONTROL, CONTROL_HINT))
    if "items" in schema:
        schema["items"] = no_control(schema["items"])
    if "anyOf" in schema:
        schema["anyOf"] = [no_control(branch) for branch in schema["anyOf"]]
    return schema


def args_object(entry: Entry, extra: dict[str, JSON] | None = None) -> JSON:
    """The arguments of one name, as an object (null too when none is required)."""
    properties = {**entry.params, **(extra or {})}
    schema: JSON = {
        "type": "object" if entry.required else ["object", "null"],
        "description": entry.description,
        "properties": properties,
        "additionalProperties": False,
    }
    if entry.required:
        schema["required"] = list(entry.required)
    return schema


def named(
    family: dict[str, JSON], description: str, *, strings: list[str] | None = None
) -> JSON:
    """A single-key mapping `Name: {args}`; with `strings`, a bare name is accepted too."""
    mapping: JSON = {
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "propertyNames": {"enum": sorted(family)},
        "properties": family,
        "description": description,
    }
    if strings is None:
        return mapping
    return {
        "anyOf": [{"type": "string", "enum": strings}, mapping],
        "description": description,
    }


def bare(family: dict[str, JSON]) -> list[str]:
    """Names that may stand alone as a string: those with no required argument."""
    return sorted(name for name, args in family.items() if not args.get("required"))


def family(table: Mapping[str, Entry], description: str) -> JSON:
    """`Name: {args}` of a family, or a bare name where one needs no argument."""
    members = entries(table)
    return named(members, description, strings=bare(members) or None)


def entries(table: Mapping[str, Entry]) -> dict[str, JSON]:
    """Each name of a family with its arguments object."""
    return {name: args_object(entry) for name, entry in table.items()}


def obj(
    description: str, properties: dict[str, JSON], required: list[str] | None = None
) -> JSON:
    """An object of these properties and no others."""
    schema: JSON = {
        "type": "object",
        "description": description,
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


def string(description: str, **extra: Any) -> JSON:
    """A string property."""
    return {"type": "string", "description": description, **extra}
