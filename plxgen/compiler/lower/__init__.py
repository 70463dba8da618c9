"""Validated data -> IR, plus the checks a JSON Schema cannot express.

One module a concern, each a set of functions that take the shared `Context`
(the document, its paths, the diagnostics found so far):

    context      the context, its `fail` (every check goes through it), name helpers
    environment  strategy, cluster, devices, sessions, run_config, jit_compile, logging
    data         pipelines, their files, the shuffle buffer, feature processors
    graph        the graph of layers, their calls, arity and usage checks
    model        classifier / regressor / generator, per-output metrics, the optimizer
    losses       the loss and the metrics
    rl           RL experiments (dqn, ddqn, naf, vpg, trpo)

Here the experiment is assembled from the parts, in the order the checks are
reported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plxgen.compiler import ir
from plxgen.compiler.load import Document, Path
from plxgen.compiler.lower.context import Context, snake_case
from plxgen.compiler.lower.data import (
    lower_pipeline,
    name_processors,
    pipeline_features,
)
from plxgen.compiler.lower.environment import (
    lower_environment,
    lower_logging,
    lower_run_config,
    script_config,
)
from plxgen.compiler.lower.graph import MAX_LAYERS, keras_layers, keras_layers_document
from plxgen.compiler.lower.losses import MAX_METRICS
from plxgen.compiler.lower.model import lower_model, uint8_features
from plxgen.schema.registry.rl import KINDS as RL_KINDS

if TYPE_CHECKING:  # the RL IR is loaded only for RL experiments
    from plxgen.compiler.rl_ir import RLExperiment

__all__ = [
    "MAX_LAYERS",
    "MAX_METRICS",
    "keras_layers",
    "keras_layers_document",
    "lower",
    "pipeline_features",
    "snake_case",
]


def lower(
    doc: Document, config_path: str, data_prefix: str
) -> ir.Experiment | RLExperiment:
    """Lower a validated document; raises ConfigError with every semantic problem."""
    ctx = Context(doc, config_path, data_prefix)
    data = doc.data
    if not data["project"]["name"].strip("."):
        ctx.fail(
            ("project", "name"),
            "a name of only dots is no folder name",
            "bad-name",
            "the default model folder is named after the project; use letters or digits",
        )
    ((kind, spec),) = data["model"].items()
    if kind in RL_KINDS:
        from plxgen.compiler.lower.rl import lower_rl

        return lower_rl(ctx, kind, spec)
    model_path: Path = ("model", kind)
    train_pipe = lower_pipeline(ctx, data["train"], ("train",))
    eval_section = data.get("eval")
    eval_pipe = lower_pipeline(ctx, eval_section, ("eval",)) if eval_section else None
    train_pipe, eval_pipe = name_processors(train_pipe, eval_pipe)
    features = pipeline_features(train_pipe)
    if eval_pipe is not None and eval_pipe.kind != train_pipe.kind:
        ctx.fail(
            ("eval", "data_pipeline", eval_pipe.kind),
            f"the eval pipeline must be a {train_pipe.kind}, as in train",
            "pipeline-kind",
            "the model reads the same features from both",
            key=True,
        )
    model = lower_model(
        ctx,
        kind,
        spec,
        model_path,
        features,
        data["project"]["name"],
        uint8_features(train_pipe, eval_pipe),
    )
    environment = data.get("environment", {})
    experiment = ir.Experiment(
        project=data["project"]["name"],
        description=data["project"].get("description"),
        config_path=config_path,
        logging=lower_logging(ctx, data.get("settings", {}).get("logging", {})),
        run_config=lower_run_config(ctx, environment.get("run_config", {})),
        model=model,
        train=train_pipe,
        train_steps=data["train"].get("train_steps"),
        eval=eval_pipe,
        # null (the whole eval data) is --eval-steps' 0
        eval_steps=(eval_section.get("steps", 10) or 0) if eval_section else 0,
        eval_delay_secs=eval_section.get("delay_secs", 0) if eval_section else 0,
        eval_throttle_secs=(
            eval_section.get("continuous_eval_throttle_secs", 60)
            if eval_section
            else 60
        ),
        resolved_config=script_config(data),
        environment=lower_environment(ctx, environment),
    )
    if model.clip_embed and experiment.environment.mixed_precision == "mixed_float16":
        # Under loss scaling the embedding gradients are scaled too, so a fixed
        # clipping norm would clip by the wrong amount.
        ctx.fail(
            model_path + ("clip_embed_gradients",),
            "clip_embed_gradients does not work with mixed_float16",
            "clip-embed-float16",
            "use mixed_precision: mixed_bfloat16, or clip_embed_gradients: 0",
        )
    ctx.check()
    return experiment
