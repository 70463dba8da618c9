"""The train and eval sections of the experiment file.

A supervised model trains and evaluates on data pipelines (whose features may
pass through feature processors); an RL model on an environment, keeping
transitions in a memory (plxgen.schema.registry.rl). The schema tells them
apart by the model kind, or by `train.env`.
"""

from __future__ import annotations

from plxgen.schema import registry
from plxgen.schema.registry import JSON, integer, rl
from plxgen.schema.sections.shapes import entries, family, named, no_control, obj


def _pipelines() -> dict[str, JSON]:
    """The pipelines, their paths and names without control characters."""
    kinds = registry.PIPELINES
    pipelines = entries(kinds)
    for args in pipelines.values():
        args["properties"] = {
            key: (
                no_control(prop)
                if key
                in (
                    "data_files",
                    "meta_data_file",
                    "name",
                    "files",
                    "source_files",
                    "target_files",
                    "label_column",
                    "feature_columns",
                )
                else prop
            )
            for key, prop in args["properties"].items()
        }
    return pipelines


def _pipeline_section(
    description: str, steps: JSON | None, extra: dict[str, JSON]
) -> JSON:
    """A supervised train or eval section: a data pipeline, steps and extra fields."""
    properties: dict[str, JSON] = {
        "data_pipeline": named(_pipelines(), "The input pipeline."),
        **extra,
    }
    if steps is not None:
        properties["steps"] = steps
    return obj(description, properties, ["data_pipeline"])


def feature_processor_graph() -> JSON:
    """The processors of one feature, applied inside the input pipeline."""
    processors = registry.FEATURE_PROCESSORS
    return obj(
        "Layers applied to one feature inside the input pipeline.",
        {
            "input_layers": no_control(
                {
                    "anyOf": [
                        {"type": "string"},
                        {"type": "array", "items": {"type": "string"}},
                    ],
                    "description": "The feature these processors take (its own name).",
                }
            ),
            "layers": {
                "type": "array",
                "items": family(processors, "A feature processor."),
                "minItems": 1,
                "description": "The operations, applied in order to each batch of the feature.",
            },
        },
        ["layers"],
    )


def supervised_train() -> JSON:
    """`train:` of a supervised model: a data pipeline and a step budget."""
    return _pipeline_section(
        "Training.",
        None,
        {
            "train_steps": integer(
                None,
                "Optimizer steps over the whole run (default: until num_epochs run out).",
                minimum=1,
            )
        },
    )


def supervised_eval() -> JSON:
    """`eval:` of a supervised model: a data pipeline and when to evaluate."""
    return _pipeline_section(
        "Evaluation.",
        {
            "type": ["integer", "null"],
            "minimum": 1,
            "default": 10,
            "description": "Batches per evaluation (null: the whole data).",
        },
        {
            "delay_secs": integer(
                0,
                "Start evaluating during training only after this many seconds.",
                minimum=0,
            ),
            "continuous_eval_throttle_secs": integer(
                60,
                "During training, evaluate after a checkpoint at most every N seconds.",
                minimum=0,
            ),
        },
    )


def rl_sections() -> JSON:
    """`train` and `eval` of an RL file: chosen by an RL model kind, or by `train.env`."""
    rl_model = {
        "description": "An RL model kind.",
        "type": "object",
        "minProperties": 1,
        "propertyNames": {"enum": list(rl.KINDS)},
    }
    return {
        "if": {
            "anyOf": [
                {"required": ["model"], "properties": {"model": rl_model}},
                {
                    "required": ["train"],
                    "properties": {
                        "train": {
                            "description": "A train section with an environment.",
                            "type": "object",
                            "required": ["env"],
                        },
                        "model": {
                            "description": "No supervised model kind.",
                            "not": {
                                "type": "object",
                                "anyOf": [
                                    {"required": ["classifier"]},
                                    {"required": ["regressor"]},
                                ],
                            },
                        },
                    },
                },
            ]
        },
        "then": {
            "properties": {
                "train": rl.train_section(family),
                "eval": rl.eval_section(),
            }
        },
    }
