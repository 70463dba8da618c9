"""JSON Schema validation: every error, located, with a did-you-mean."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any, Iterator

from plxgen.errors import Diagnostic, did_you_mean
from plxgen.compiler.load import Document, Path, format_path, show

# Keys of older files, or ones the 2017 tool silently ignored, with the fix.
_KNOWN_MISTAKES = {
    "model_type": "write the model kind as a key: `model: {classifier: {...}}`",
    "steps": "the number of training steps is `train.train_steps`",
    "generator": "generator models are not supported by this version of plxgen",
    "hooks": "hooks are not supported; checkpoints and summaries come from environment.run_config",
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


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema  # imported here: only validation needs it

    return jsonschema.Draft7Validator(json.loads(schema_text()))


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
    if kind == "pattern" and "patternErrorMessage" in error.schema:
        return Diagnostic(
            file, line, col, format_path(path), f"{show(error.instance)}: {error.schema['patternErrorMessage']}",
            "pattern",
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
        )
    if kind == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return Diagnostic(
            file,
            line,
            col,
            format_path(path),
            f"expected {expected}, got {_describe(error.instance)}",
            "type",
        )
    if kind in ("minProperties", "maxProperties") and isinstance(error.instance, dict):
        choices = sorted(error.schema.get("properties", {}))
        what = "one name" if kind == "maxProperties" else "a name"
        return Diagnostic(
            file, line, col, format_path(path), f"expected exactly {what} here, got {len(error.instance)}", "one-name",
            "write exactly one `Name: {arguments}` here" if kind == "maxProperties" else _choices(choices),
        )  # fmt: skip
    if kind in ("anyOf", "oneOf"):
        return Diagnostic(
            file, line, col, format_path(path), _any_of_message(error), "type"
        )
    message = (
        error.message if len(error.message) <= 200 else error.message[:200] + "..."
    )
    return Diagnostic(file, line, col, format_path(path), message, kind)


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
    hint = _KNOWN_MISTAKES.get(key) if known else None
    return Diagnostic(
        file, line, col, format_path(path + (key,)), f"unknown key {show(key)}", "unknown-key",
        hint or _did_you_mean(key, allowed),
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
