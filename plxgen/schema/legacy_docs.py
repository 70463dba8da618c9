"""docs/compatibility.md's generated part: the policy table of plxgen.schema.legacy, by scope."""

from __future__ import annotations

from plxgen.schema.legacy import KEYS, NAMES, REFERENCES, REJECTED, VALUES, _SECTION_ANCHORS

DOCS_BEGIN = "<!-- The 2017 vocabulary: generated from plxgen/schema/legacy.py by `python -m plxgen.schema.build --docs` -->"
DOCS_END = "<!-- end of the generated 2017 vocabulary -->"
_SCOPE_TITLES: dict[str, str] = {
    "file": "The file", "project": "project", "settings": "settings", "logging": "settings.logging",
    "environment": "environment",
    "resources": "environment: a task's resources", "session": "environment.run_config.session",
    "train": "train", "eval": "eval", "model": "model", "graph": "graph", "pipeline": "data pipelines",
    "layer": "layers", "image_op": "feature processors (image operations)", "loss": "losses",
    "metric": "metrics", "optimizer": "optimizers", "regularizer": "regularizers",
    "initializer": "initializers", "constraint": "constraints", "bridge": "bridges",
    "exploration": "RL explorations", "memory": "RL memories",
}  # fmt: skip
_FATES = {
    "honour": "honoured",
    "rename": "honoured: renamed",
    "ignore": "warned: ignored",
}


def render_docs_table() -> str:
    """The generated part of docs/compatibility.md: one row per entry, by scope."""
    lines = [DOCS_BEGIN, ""]
    for scope, title in _SCOPE_TITLES.items():
        keys = [rule for rule in KEYS if rule.scope == scope]
        names = [rule for rule in NAMES if rule.scope == scope]
        references = REFERENCES.get(scope, ())
        if not (keys or names or references):
            continue
        lines += [f"### {title}", "", "| 2017 | on | fate | why |", "|---|---|---|---|"]
        for name_rule_ in names:
            lines.append(
                f"| `{name_rule_.name}` | name | {'warned' if name_rule_.warn else 'honoured'}: written as `{name_rule_.to}`"
                f"{' (' + ', '.join(f'{k} -> {v}' for k, v in name_rule_.keys.items()) + ')' if name_rule_.keys else ''} | {name_rule_.reason} |"
            )
        for key in references:
            form = "[name, 0, 0]" if key.endswith("_layer") or key == "values" else "[[name, 0, 0]]"
            lines.append(
                f"| `{key}: {form}` | every name | honoured: the name | Keras 2's node form; another node or tensor index is an error |"
            )
        for rule in keys:
            on = (
                ", ".join(f"`{n}`" for n in rule.names)
                if rule.names
                else "every name" if scope not in _SECTION_ANCHORS else "the section"
            )
            fate = _FATES[rule.action] + (
                f" `{rule.to}`" if rule.action == "rename" else ""
            )
            lines.append(f"| `{rule.key}` | {on} | {fate} | {rule.reason} |")
        lines.append("")
    lines += [
        "### Values 2017 took in another form",
        "",
        "| 2017 | on | fate | why |",
        "|---|---|---|---|",
    ]
    forms = {"box": "[y_min, x_min, y_max, x_max]", "numbers": "[a, b, c]", "string": "a name"}
    for value in VALUES:
        fate = "honoured" if value.action == "honour" else f"rejected: {value.hint}"
        lines.append(
            f"| `{value.key}: {forms[value.form]}` | `{value.name}` | {fate} | {value.reason} |"
        )
    lines += [
        "",
        "### Names 2017 could not build either",
        "",
        "| 2017 | fate | hint |",
        "|---|---|---|",
    ]
    lines += [f"| `{name}` | rejected | {hint} |" for name, hint in REJECTED.items()]
    lines += ["", DOCS_END]
    return "\n".join(lines) + "\n"


def render_docs(current: str) -> str:
    """docs/compatibility.md with its generated part replaced (appended when absent)."""
    table = render_docs_table()
    if DOCS_BEGIN in current and DOCS_END in current:
        before = current[: current.index(DOCS_BEGIN)]
        after = current[current.index(DOCS_END) + len(DOCS_END) + 1 :]
        return before + table + after
    return current.rstrip("\n") + "\n\n" + table if current else table
