"""Builds the JSON Schema of the experiment file from the name tables.

`python -m plxgen.schema.build` rewrites `schemas/experiment.schema.json`; a test
fails when the committed file is stale. The layer part comes from
`schemas/keras_layers.json`, which `tools/gen_keras_layers.py` derives from
the Keras constructors. The parts of the schema are built in
`plxgen.schema.sections`; this module assembles them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from plxgen.schema.registry import JSON
from plxgen.schema.sections import environment, model, train

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
SCHEMA_ID = "https://plxgen.dev/schemas/experiment.schema.json"


def build_schema() -> JSON:
    """The whole Draft-07 schema of the experiment file."""
    schema = _build_schema()
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
        },
        "definitions": definitions,
    }


def render_schema() -> str:
    """The schema as the committed file holds it: with examples for editors."""
    from plxgen.schema.examples import annotate

    return json.dumps(annotate(build_schema()), indent=2, sort_keys=True) + "\n"


def render_docs() -> str:
    """docs/reference.md: the reference page generated from the schema."""
    from plxgen.schema.reference import render_reference

    return render_reference(json.loads(render_schema()))


def main() -> int:
    """Rewrite schemas/experiment.schema.json (or with --check, report staleness).

    With --docs, the same for docs/reference.md.
    """
    target = SCHEMAS / "experiment.schema.json"
    text = render_schema()
    if "--docs" in sys.argv[1:]:
        target, text = SCHEMAS.parent / "docs" / "reference.md", render_docs()
    if "--check" in sys.argv[1:]:
        if not target.exists() or target.read_text() != text:
            print(
                f"{target} is stale: run python -m plxgen.schema.build{' --docs' if '--docs' in sys.argv else ''}",
                file=sys.stderr,
            )
            return 1
        return 0
    target.write_text(text)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
