"""Builds the JSON Schemas of the experiment file from the name tables.

`python -m plxgen.schema.build` rewrites `schemas/experiment.schema.json` (the
strict schema the compiler validates with, after templating) and
`schemas/experiment.editor.schema.json` (the same schema widened to the file
as written, for editors and pre-commit: `plxgen schema`, `plxgen init`; see
`plxgen.schema.editor`); a test fails when a committed file is stale. The
layer part comes from `schemas/keras_layers.json`, which
`tools/gen_keras_layers.py` derives from the Keras constructors. The parts
of the schema are built in `plxgen.schema.sections`; this module assembles
them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from plxgen.schema.registry import JSON
from plxgen.schema.sections import environment, model, train

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
SCHEMA_ID = "https://plxgen.dev/schemas/experiment.schema.json"
EDITOR_SCHEMA_ID = "https://plxgen.dev/schemas/experiment.editor.schema.json"
# The committed files: the strict schema, and the editor schema derived from it.
FILES = {False: "experiment.schema.json", True: "experiment.editor.schema.json"}


def build_schema(editor: bool = False) -> JSON:
    """The whole Draft-07 schema of the experiment file (with `editor`, as written, for editors)."""
    if editor:
        from plxgen.schema.editor import editor_schema
        from plxgen.schema.examples import annotate
        from plxgen.schema.legacy import deprecate

        # The 2017 keys that the compiler renames or ignores, marked deprecated.
        return editor_schema(deprecate(annotate(build_schema())), EDITOR_SCHEMA_ID)
    from plxgen.schema.legacy import extend

    schema = extend(_build_schema())  # with the 2017 keys the policy table honours
    # `train` and `eval` take their shape from the model kind: supervised (a data
    # pipeline) unless the model is an RL kind or train names an environment.
    properties = schema["properties"]
    sections = train.rl_sections()
    sections["else"] = {
        "properties": {"train": properties["train"], "eval": properties["eval"]}
    }
    properties["train"] = {
        "type": "object",
        "description": "Training: a data pipeline, or for RL models an environment and a memory.",
    }
    properties["eval"] = {
        "type": "object",
        "description": "Evaluation: a data pipeline, or for RL models a number of episodes.",
    }
    schema.update(sections)
    return schema


def _build_schema() -> JSON:
    keras_layers = json.loads((SCHEMAS / "keras_layers.json").read_text())
    definitions = {
        "layer": model.layer(keras_layers),
        "graph": model.graph(),
        "decoder_graph": {
            **model.graph(input_required=False),
            "description": "A decoder's layers; input_layers, if given, names the bridge's output.",
        },
        "feature_processor_graph": train.feature_processor_graph(),
        **model.layer_arguments(),
    }
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "plxgen experiment file (Polyaxon version 1)",
        "type": "object",
        "additionalProperties": False,
        "required": ["version", "project", "model", "train"],
        "properties": {
            "version": {"const": 1, "description": "The file format version: 1."},
            "declarations": environment.declarations(),
            "matrix": environment.matrix(),
            "project": environment.project(),
            "settings": environment.settings(),
            "environment": environment.environment(),
            "model": model.model(),
            "train": train.supervised_train(),
            "eval": train.supervised_eval(),
            "launch": environment.launch(),
        },
        "definitions": definitions,
    }


def render_schema(editor: bool = False) -> str:
    """The schema as the committed file holds it: with examples for editors."""
    from plxgen.schema.examples import annotate

    if not editor:
        return json.dumps(annotate(build_schema()), indent=2, sort_keys=True) + "\n"
    from plxgen.schema.editor import shared

    # Committed and written by `plxgen init`: repeated parts defined once, no indentation.
    schema = shared(build_schema(editor=True))
    return json.dumps(schema, sort_keys=True, separators=(",", ":")) + "\n"


def render_docs() -> str:
    """docs/reference.md: the reference page generated from the schema."""
    from plxgen.schema.reference import render_reference

    return render_reference(json.loads(render_schema()))


def main() -> int:
    """Rewrite the two schemas in schemas/ (or with --check, report staleness).

    With --docs, the same for docs/reference.md.
    """
    docs = "--docs" in sys.argv[1:]
    if docs:
        from plxgen.schema.legacy_docs import render_docs as compatibility

        page = SCHEMAS.parent / "docs" / "compatibility.md"
        current = page.read_text() if page.exists() else ""
        targets = [
            (SCHEMAS.parent / "docs" / "reference.md", render_docs()),
            (page, compatibility(current)),
        ]
    else:
        targets = [(SCHEMAS / FILES[e], render_schema(editor=e)) for e in (False, True)]
    status = 0
    for target, text in targets:
        if "--check" in sys.argv[1:]:
            if not target.exists() or target.read_text() != text:
                print(
                    f"{target} is stale: run python -m plxgen.schema.build{' --docs' if docs else ''}",
                    file=sys.stderr,
                )
                status = 1
            continue
        target.write_text(text)
        print(f"wrote {target}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
