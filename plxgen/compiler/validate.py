"""JSON Schema validation: every error, located, with a did-you-mean."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any, Iterator

from plxgen.errors import Diagnostic, alias, did_you_mean
from plxgen.compiler.load import Document, Path, format_path, show
from plxgen.schema.sections.shapes import CONTROL, CONTROL_HINT

# Keys of older files, or ones the 2017 tool silently ignored, with the fix.
_KNOWN_MISTAKES = {
    "model_type": "write the model kind as a key: `model: {classifier: {...}}`",
    "steps": "the number of training steps is `train.train_steps`",
    "epochs": "the number of epochs is the pipeline's `num_epochs`: "
    "`data_pipeline: {KIND: {num_epochs: N}}`",
    "generator": "generator models are not supported by this version of plxgen",
    "hooks": "hooks are not supported; checkpoints and summaries come from environment.run_config",
    # 2017 spellings that only `plxgen upgrade` rewrites (it moves or renames the text).
    "regularizer": "2017's spelling of a layer's weight regularizer: `plxgen upgrade FILE` "
    "renames it (kernel_regularizer, or the one its layer takes)",
    "environment": "environment is a section of the file (2017 also wrote it under "
    "settings): `plxgen upgrade FILE` moves it there",
    **dict.fromkeys(
        ("model_config", "train_input_data_config", "eval_input_data_config", "estimator_config"),
        "a section of polyaxon's format before the experiment file, which 2017's tool refused "
        "too: write the file anew as an experiment file (docs/file-format.md; `plxgen init` "
        "writes a starter)",
    ),  # fmt: skip
}


def schema_text() -> str:
    """The committed strict JSON Schema: the rendered file, as the compiler validates it."""
    return (
        resources.files("plxgen.schemas").joinpath("experiment.schema.json").read_text()
    )


def editor_schema_text() -> str:
    """The committed editor JSON Schema: the file as written (templates, operators, 2017 spellings).

    `plxgen schema` prints it and `plxgen init` writes it; the compiler never
    validates with it (plxgen.schema.editor derives it from the strict one).
    """
    return (
        resources.files("plxgen.schemas")
        .joinpath("experiment.editor.schema.json")
        .read_text()
    )


def _is_integer(checker: Any, value: Any) -> bool:
    """An int, not a bool and not a float: `units: 10.0` is not a count.

    Draft 7 calls 10.0 an integer (JSON has one number type), and Keras
    would then get a float where it counts; YAML tells them apart, so
    validation does too, for every integer-valued key at once.
    """
    return isinstance(value, int) and not isinstance(value, bool)


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema  # imported here: only validation needs it

    checker = jsonschema.Draft7Validator.TYPE_CHECKER.redefine("integer", _is_integer)
    strict = jsonschema.validators.extend(
        jsonschema.Draft7Validator, type_checker=checker
    )
    return strict(json.loads(schema_text()))


def validate(doc: Document) -> list[Diagnostic]:
    """All schema violations of a document, as diagnostics."""
    diagnostics: list[Diagnostic] = []
    for error in _validator().iter_errors(doc.data):
        diagnostics.extend(_explain(doc, error))
    # A misspelt required key is one mistake: keep the did-you-mean, drop "missing key".
    suggested = {
        (d.path.rsplit(".", 1)[0] if "." in d.path else "$", d.hint.split("'")[1])
        for d in diagnostics
        if d.code in ("unknown-key", "unknown-name")
        and d.hint
        and d.hint.startswith("did you mean")
    }
    kept = [
        d
        for d in diagnostics
        if not (
            d.code == "missing-key" and (d.path, d.message.split("'")[1]) in suggested
        )
    ]
    return sorted(set(kept))


def _leaves(error: Any) -> Iterator[Any]:
    """Descend through anyOf into the branch that fits the value's type."""
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        yield error
        return
    by_branch: dict[int, list[Any]] = {}
    for sub in error.context:
        by_branch.setdefault(sub.schema_path[0], []).append(sub)
    # A branch that failed on more than its type is the one the user meant.
    fitting = [
        subs
        for subs in by_branch.values()
        if not any(s.validator == "type" and not s.path for s in subs)
    ]
    if len(fitting) == 1:
        for sub in fitting[0]:
            yield from _leaves(sub)
        return
    yield error


def _explain(doc: Document, error: Any) -> Iterator[Diagnostic]:
    if error.validator == "anyOf" and isinstance(error.instance, str):
        for branch in error.validator_value:
            args = branch.get("properties", {}).get(error.instance)
            if args and args.get("required"):
                path: Path = tuple(error.absolute_path)
                file, line, col = doc.where(path)
                needed = ", ".join(f"{name}: ..." for name in args["required"])
                yield Diagnostic(
                    file, line, col, format_path(path), f"{error.instance} needs arguments", "needs-arguments",
                    f"write `{error.instance}: {{{needed}}}`",
                )  # fmt: skip
                return
    for leaf in _leaves(error):
        if leaf.validator == "additionalProperties" and isinstance(leaf.instance, dict):
            yield from _unknown_keys(doc, leaf)
        else:
            yield _diagnostic(doc, leaf)


def _unknown_keys(doc: Document, error: Any) -> Iterator[Diagnostic]:
    """One diagnostic per unknown key of a mapping (jsonschema reports them together)."""
    known = error.schema.get("properties", {})
    for key in error.instance:
        if key not in known:
            yield _unknown_key(doc, tuple(error.absolute_path), key, sorted(known))


def _diagnostic(doc: Document, error: Any) -> Diagnostic:
    path: Path = tuple(error.absolute_path)
    kind = error.validator
    schema_path = list(error.absolute_schema_path)
    if "propertyNames" in schema_path and kind == "pattern":
        name = str(error.instance)
        file, line, col = doc.where(path + (name,), key=True)
        return Diagnostic(
            file, line, col, format_path(path + (name,)), f"{show(name)} is not a name this key takes",
            "unknown-name", _pattern_hint(name, error.validator_value),
        )  # fmt: skip
    if "propertyNames" in schema_path:
        return _unknown_name(
            doc,
            path,
            str(error.instance),
            [str(v) for v in error.validator_value or []],
        )
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extras = [
            k for k in error.instance if k not in error.schema.get("properties", {})
        ]
        key = sorted(extras)[0]
        return _unknown_key(doc, path, key, allowed)
    file, line, col = doc.where(path, key=kind == "required")
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return Diagnostic(
            file,
            line,
            col,
            format_path(path),
            f"missing required key {missing!r}",
            "missing-key",
            _missing_hint(error.schema.get("properties", {}).get(missing, {}), missing, path),
        )
    if kind == "not" and isinstance(error.instance, str):
        forbidden = error.validator_value.get("pattern")
        found = re.search(forbidden, error.instance) if forbidden else None
        if found:
            where = found.start() + 1
            return Diagnostic(
                file, line, col, format_path(path),
                f"character {found.group()!r} (U+{ord(found.group()):04X}) at position {where} is not allowed here",
                "bad-character", error.validator_value.get("description"),
            )  # fmt: skip
    if kind == "pattern" and isinstance(error.instance, str):
        told = error.schema.get("patternErrorMessage")
        message = f"{show(error.instance)}: {told}" if told else f"{show(error.instance)} does not match {error.validator_value!r}"
        return Diagnostic(
            file, line, col, format_path(path), message, "pattern", _pattern_hint(error.instance, error.validator_value),
        )  # fmt: skip
    if kind == "enum":
        allowed = [str(v) for v in error.validator_value]
        return Diagnostic(
            file, line, col, format_path(path), f"{show(error.instance)} is not one of the allowed values", "enum",
            _did_you_mean(str(error.instance), allowed),
        )  # fmt: skip
    if kind == "const":
        return Diagnostic(
            file,
            line,
            col,
            format_path(path),
            f"must be {error.validator_value!r}, not {show(error.instance)}",
            "const",
            f"write `{path[-1] if path else '$'}: {json.dumps(error.validator_value)}`"
            + (": the only version this plxgen reads" if path == ("version",) else ""),
        )
    if kind == "type":
        kinds = error.validator_value
        kinds = kinds if isinstance(kinds, list) else [kinds]
        return Diagnostic(
            file, line, col, format_path(path), f"expected {' or '.join(kinds)}, got {_describe(error.instance)}",
            "type", _type_hint(kinds, error.instance),
        )  # fmt: skip
    if kind == "uniqueItems" and isinstance(error.instance, list):
        return _repeated(doc, path, error.instance)
    if kind in ("minProperties", "maxProperties") and isinstance(error.instance, dict):
        choices = sorted(error.schema.get("properties", {}))
        what = "one name" if kind == "maxProperties" else "a name"
        return Diagnostic(
            file, line, col, format_path(path), f"expected exactly {what} here, got {len(error.instance)}", "one-name",
            "write exactly one `Name: {arguments}` here" if kind == "maxProperties" else _choices(choices),
        )  # fmt: skip
    if kind in ("anyOf", "oneOf"):
        return Diagnostic(
            file, line, col, format_path(path), _any_of_message(error), "type", _any_of_hint(error),
        )  # fmt: skip
    message = (
        error.message if len(error.message) <= 200 else error.message[:200] + "..."
    )
    return Diagnostic(
        file, line, col, format_path(path), message, kind, _bound_hint(kind, error.validator_value)
    )  # fmt: skip


# What a bound of a value, a list or a string asks for, as a fix.
_BOUNDS = {
    "minimum": "write {} or more",
    "maximum": "write {} or less",
    "exclusiveMinimum": "write a value above {}",
    "exclusiveMaximum": "write a value below {}",
    "minItems": "list at least {} items",
    "maxItems": "list at most {} items",
    "minLength": "write at least {} characters",
    "maxLength": "write at most {} characters",
    "minProperties": "give at least {} keys",
    "maxProperties": "give at most {} keys",
    "multipleOf": "write a multiple of {}",
}


def _bound_hint(kind: str, bound: Any) -> str | None:
    """The fix for a value out of its schema's bounds (None for another kind of error)."""
    if kind not in _BOUNDS or isinstance(bound, bool) or not isinstance(bound, (int, float)):
        return None
    return _BOUNDS[kind].format(bound)


def _missing_hint(schema: Any, key: str, path: Path) -> str:
    """The key to add, with a value its schema documents (an example, else its default)."""
    where = "at the top of the file" if not path else f"under {format_path(path)}"
    schema = schema if isinstance(schema, dict) else {}
    branches = [schema, *schema.get("anyOf", [])]
    family = [n for b in branches for n in b.get("propertyNames", {}).get("enum", [])]
    if family:  # a `Name: {arguments}` mapping: which names there are
        names = (_choices(family) or "").replace("expected one of", "Name one of", 1)
        return f"add `{key}: {{Name: {{...}}}}` {where}; {names}"
    values = schema.get("examples") or []
    if not values and "default" in schema:
        values = [schema["default"]]
    if values and values[0] not in ({}, [], None):
        shown = json.dumps(values[0], separators=(", ", ": "))
        if len(shown) <= 100:
            return f"add `{key}: {shown}` {where}"
    return f"add `{key}:` {where}; `plxgen schema` documents its values"


def _repeated(doc: Document, path: Path, items: list[Any]) -> Diagnostic:
    """A list whose items must differ: located at the first repeat."""
    seen: list[Any] = []
    for index, item in enumerate(items):
        if item in seen:
            file, line, col = doc.where(path + (index,))
            return Diagnostic(
                file, line, col, format_path(path + (index,)), f"{show(item)} is listed twice",
                "duplicate-item", f"remove this one: {show(item)} is already item {seen.index(item)} of the list",
            )  # fmt: skip
        seen.append(item)
    file, line, col = doc.where(path)
    return Diagnostic(
        file, line, col, format_path(path), "the items must differ", "duplicate-item", "remove the repeated items",
    )  # fmt: skip


def _pattern_hint(value: str, pattern: str) -> str:
    """What to change in a string its pattern refuses: a control character, or the pattern."""
    found = re.search(f"[{CONTROL}]", value)
    if found:
        return f"remove the {found.group()!r} at position {found.start() + 1}: {CONTROL_HINT}"
    return f"write a value that matches the regular expression {pattern}"


def _unknown_name(
    doc: Document, path: Path, name: str, choices: list[str]
) -> Diagnostic:
    file, line, col = doc.where(path + (name,), key=True)
    where = format_path(path + (name,))
    removed = _removed_layers()
    if name in removed and "Dense" in choices:
        return Diagnostic(
            file, line, col, where, f"Keras 3 has no layer {show(name)}", "removed-layer", removed[name]
        )  # fmt: skip
    from plxgen.schema.legacy import REJECTED

    hint = _KNOWN_MISTAKES.get(name) or REJECTED.get(name) or _did_you_mean(name, choices)
    return Diagnostic(
        file, line, col, where, f"unknown name {show(name)}", "unknown-name", hint
    )


def _removed_layers() -> dict[str, str]:
    """Layers of the 2017 vocabulary that Keras 3 removed, with what to use instead."""
    from plxgen.compiler.lower import keras_layers_document

    removed: dict[str, str] = keras_layers_document()["removed"]
    return removed


def _unknown_key(doc: Document, path: Path, key: str, allowed: list[str]) -> Diagnostic:
    file, line, col = doc.where(path + (key,), key=True)
    # eval.steps is a mistake only where episodes are counted (RL); train.steps always.
    known = key not in allowed and not (key == "steps" and path[:1] == ("eval",))
    known = known and alias(key) not in allowed  # `epochs` where `num_epochs` is
    hint = _KNOWN_MISTAKES.get(key) if known else None
    return Diagnostic(
        file, line, col, format_path(path + (key,)), f"unknown key {show(key)}", "unknown-key",
        hint or _did_you_mean(key, allowed) or "remove it: this mapping takes no keys",
    )  # fmt: skip


def _did_you_mean(word: str, choices: list[str]) -> str | None:
    """`did you mean 'X'?` for a close match (case-insensitive), else the choices if few."""
    # The runner-up too when it is as likely as the best match.
    close = did_you_mean(word, choices, ignore_case=True, alternatives=2)
    return close or _choices(choices)


def _choices(choices: list[str]) -> str | None:
    choices = [c for c in choices if c]
    if not choices:
        return None
    if len(choices) <= 12:
        return "expected one of: " + ", ".join(choices)
    return (
        "expected one of: "
        + ", ".join(choices[:12])
        + f", ... ({len(choices)} in all; see `plxgen schema`)"
    )


def _describe(value: Any) -> str:
    if value is None:
        return "null (an empty value)"
    names = {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "list",
        dict: "mapping",
    }
    return f"{names.get(type(value), type(value).__name__)} {json.dumps(value)[:40]}"


def _fits(kinds: list[str], value: Any) -> bool:
    """Whether a value is of one of these JSON types (bool is no number here)."""
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    return any(
        (kind == "integer" and numeric and isinstance(value, int))
        or (kind == "number" and numeric)
        or (kind == "string" and isinstance(value, str))
        or (kind == "boolean" and isinstance(value, bool))
        or (kind == "null" and value is None)
        for kind in kinds
    )


def _type_hint(kinds: list[str], value: Any) -> str | None:
    """How to write `value` as one of `kinds`, where the mistake is a known one."""
    if "integer" in kinds and isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return (
                f"write {int(value)}, not {value!r}: this key takes a whole number "
                "(in a `{{ }}` expression, `//` divides to one)"
            )
        if value != value or abs(value) == float("inf"):  # .nan, .inf
            return "this key takes a whole number, e.g. 10"
        return f"this key takes a whole number: round it, e.g. {int(value)}"
    if {"integer", "number"} & set(kinds) and isinstance(value, str):
        text = value.strip()
        try:
            number = int(text) if "integer" in kinds else float(text)
        except ValueError:
            wanted = "a whole number, e.g. 10" if "number" not in kinds else "a number, e.g. 0.01"
            return f"write {wanted} (a `{{{{ }}}}` expression must give one too)"
        return f"remove the quotes: write {number!r}, a number, not text"
    if "string" in kinds and isinstance(value, bool):
        return (
            "YAML 1.1 reads true/false, yes/no and on/off as booleans: "
            "quote the value to keep it as text"
        )
    if "string" in kinds and isinstance(value, (int, float)):
        return f"quote it to write it as text: '{value}'"
    if "boolean" in kinds and isinstance(value, str):
        return "write true or false, without quotes"
    if value is None and kinds == ["object"]:
        return "give it its keys (`{key: value}`), or remove the key"
    if value is None:
        return "give it a value, or remove the key to take the default"
    if "array" in kinds and not isinstance(value, list):
        return f"write a list: [{json.dumps(value)[:40]}]"
    if "object" in kinds:
        return "write a mapping: `key: value` pairs, indented under the key"
    if isinstance(value, list) and len(value) == 1 and _fits(kinds, value[0]):
        return f"write the value itself, without brackets: {json.dumps(value[0])[:40]}"
    shapes = {
        "integer": "a whole number, e.g. 10",
        "number": "a number, e.g. 0.5",
        "string": "a text (in quotes where it would read as a number, a boolean or null)",
        "boolean": "true or false",
        "null": "nothing (leave the value empty)",
    }
    forms = [shapes[k] for k in kinds if k in shapes]
    if forms:
        shown = "a list" if isinstance(value, list) else "a mapping" if isinstance(value, dict) else "this"
        return f"write {' or '.join(forms)} here, not {shown}"
    return None


def _any_of_hint(error: Any) -> str:
    """The fix for a value that fits none of the forms a key takes."""
    kinds = [k for sub in error.context or [] if sub.validator == "type"
             for k in (sub.validator_value if isinstance(sub.validator_value, list) else [sub.validator_value])]  # fmt: skip
    names = sorted({str(v) for sub in error.context or [] if sub.validator == "enum" for v in sub.validator_value})
    known = _type_hint(kinds, error.instance) if kinds else None
    if known:
        return known
    if names:
        return _choices(names) or "see `plxgen schema` for the forms it takes"
    return "see `plxgen schema` for the forms this key takes"


def _any_of_message(error: Any) -> str:
    kinds = []
    for sub in error.context or []:
        if sub.validator == "type":
            value = sub.validator_value
            kinds.extend(value if isinstance(value, list) else [value])
        elif sub.validator == "enum":
            kinds.append("a known name")
    unique = sorted(set(kinds))
    if unique:
        return f"expected {' or '.join(unique)}, got {_describe(error.instance)}"
    return f"{_describe(error.instance)} is not valid here"
