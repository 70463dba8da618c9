"""Validated RL documents -> rl_ir.RLExperiment, with the checks a schema cannot express."""

from __future__ import annotations

import re
from typing import Any

from plxgen.compiler import ir, rl_ir
from plxgen.compiler.load import Path, show
from plxgen.compiler.lower.context import Context, one, or_default
from plxgen.compiler.lower.environment import (
    lower_logging,
    lower_run_config,
    script_config,
)
from plxgen.compiler.lower.graph import keras_layers, lower_graph
from plxgen.compiler.lower.losses import lower_loss
from plxgen.compiler.lower.model import (
    check_decay_rate,
    check_decay_window,
    lower_model_optimizer,
)
from plxgen.schema.registry import rl, schema_default
from plxgen.schema.sections.model import kind_fields

# Activations the numpy copy of a plain Dense stack computes (the script acts with it).
NUMPY_ACTIVATIONS = {"linear", "relu", "tanh", "sigmoid", "elu", "softplus"}
# Dense arguments that do not change what a forward pass computes.
_DENSE_KEYS = {
    "units",
    "activation",
    "use_bias",
    "kernel_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "bias_regularizer",
    "activity_regularizer",
    "kernel_constraint",
    "bias_constraint",
    "name",
    "trainable",
}
# The layers the agents add after the torso (and the value baseline's copy of it).
HEAD_NAMES = {"q_values", "advantage", "value", "mu", "l_entries", "logits", "mean"}


def lower_rl(ctx: Context, kind: str, spec: dict[str, Any]) -> rl_ir.RLExperiment:
    """Lower a document whose model is an RL kind (dqn, ddqn, naf, vpg, trpo)."""
    data = ctx.doc.data
    train = data["train"]
    path: Path = ("model", kind)
    agent = _agent(ctx, kind, spec, path)
    env_name, env_args = one(train["env"])  # Gym, the one environment kind
    _check_env_id(ctx, env_args, ("train", "env", env_name))
    env = rl_ir.Env(
        env_id=env_args["env_id"],
        module=env_args.get("env_module"),
        max_episode_steps=env_args.get("max_episode_steps"),
        kwargs=tuple(sorted((env_args.get("kwargs") or {}).items())),
    )
    memory = _memory(ctx, kind, train)
    first_update = or_default(train, rl.Q_TRAIN, "first_update")
    if kind in rl.Q_KINDS and memory.kind == "replay":
        if first_update < memory.batch_size:
            ctx.fail(
                ("train", "first_update") if "first_update" in train else ("train",),
                f"first_update ({first_update}) is below the memory's batch_size ({memory.batch_size}): "
                "the first update could not fill a batch",
                "first-update",
                f"set first_update: {memory.batch_size} or more",
                key="first_update" in train,
            )
    if kind in rl.PG_KINDS:
        for key in rl.Q_TRAIN:
            if key in train:
                ctx.fail(
                    ("train", key),
                    f"{key} is for Q models (dqn, ddqn, naf); {kind} updates once per memory batch",
                    "not-for-model",
                    "remove it; BatchMemory.batch_size sets how often the policy is updated",
                    key=True,
                )
    for key in data.get("environment", {}):
        if key != "run_config":  # nothing else would reach the script
            ctx.fail(
                ("environment", key),
                "does not apply to an RL experiment, which runs in one "
                "process on one device",
                "not-for-model",
                "remove it; environment.run_config applies",
                key=True,
            )
    settings = data.get("settings", {}).get("logging", {})
    evaluation = data.get("eval") or {}
    keep_best = or_default(evaluation, rl.EVAL, "keep_best")
    experiment = rl_ir.RLExperiment(
        project=data["project"]["name"],
        description=data["project"].get("description"),
        config_path=ctx.config_path,
        logging=lower_logging(ctx, settings),
        run_config=lower_run_config(
            ctx, data.get("environment", {}).get("run_config", {})
        ),
        agent=agent,
        env=env,
        memory=memory,
        train_steps=train["train_steps"],
        first_update=first_update,
        update_frequency=or_default(train, rl.Q_TRAIN, "update_frequency"),
        gradient_steps=or_default(train, rl.Q_TRAIN, "gradient_steps"),
        eval_episodes=or_default(evaluation, rl.EVAL, "episodes"),
        eval_every_steps=evaluation.get("every_steps")
        or (max(train["train_steps"] // 50, 1) if keep_best else None),
        keep_best=keep_best,
        resolved_config=script_config(data),
    )
    ctx.check()
    return experiment


def _check_env_id(ctx: Context, args: dict[str, Any], path: Path) -> None:
    """An env_id names an environment, never code to import.

    gymnasium.make("module:Env-v0") imports `module` first: a config string
    would choose what the script runs. A module to import is said explicitly
    with env_module, checked as a dotted name.
    """
    env_id: str = args["env_id"]
    if ":" not in env_id:
        return
    module, _, plain = env_id.rpartition(":")
    ctx.fail(
        path + ("env_id",),
        f"{show(env_id)} names a module to import before the `:`; an env_id names "
        "only the environment",
        "env-module",
        f"write env_id: {plain} and env_module: {module}"
        if "env_module" not in args and re.fullmatch(rl.MODULE, module) and plain
        else "give the registered id without `module:`, and the module in env_module",
    )


def _memory(ctx: Context, kind: str, train: dict[str, Any]) -> rl_ir.Memory:
    name, args = one(train["memory"])
    values = rl.MEMORIES[name].complete(args)
    if name == "Memory":
        memory = rl_ir.Memory("replay", values["size"], values["batch_size"])
        if memory.batch_size > memory.size:
            ctx.fail(
                ("train", "memory", name, "batch_size"),
                f"batch_size ({memory.batch_size}) is larger than size "
                f"({memory.size})",
                "batch-size",
                "a batch is drawn from the transitions the memory keeps",
            )
    else:
        size = values["batch_size"]
        memory = rl_ir.Memory("batch", size, size)
    wanted = "Memory" if kind in rl.Q_KINDS else "BatchMemory"
    if name != wanted:
        why = (
            "a Q model learns from replayed transitions"
            if wanted == "Memory"
            else "a policy-gradient model learns from batches of its own, current policy"
        )
        ctx.fail(
            ("train", "memory", name),
            f"{kind} needs {wanted}, not {name}: {why}",
            "wrong-memory",
            f"write `memory: {{{wanted}: {{...}}}}`",
            key=True,
        )
    return memory


def _agent(ctx: Context, kind: str, spec: dict[str, Any], path: Path) -> rl_ir.Agent:
    inputs = spec["graph"]["input_layers"]
    inputs = [inputs] if isinstance(inputs, str) else list(inputs)
    if inputs != ["state"]:
        ctx.fail(
            path + ("graph", "input_layers"),
            f"an agent's graph takes one input, the environment's "
            f"observation, named 'state' (got {', '.join(map(repr, inputs))})",
            "unknown-feature",
            "write input_layers: state",
        )
    for i, item in enumerate(spec["graph"]["layers"]):
        layer, args = one(item)
        if args.get("name") in HEAD_NAMES:
            ctx.fail(
                path + ("graph", "layers", i, layer, "name"),
                f"{args['name']!r} names one of the agent's heads",
                "duplicate-name",
                "give the layer another name",
            )
    graph = lower_graph(ctx, spec["graph"], path + ("graph",), tuple(inputs))
    fields = kind_fields(kind)
    # trpo steps by the natural gradient: the policy table ignores its optimizer.
    optimizer = (
        None if kind == "trpo" else lower_model_optimizer(ctx, spec, path, fields)
    )
    loss = None
    exploration = None
    params: dict[str, Any] = {}
    q_model = kind in rl.Q_KINDS  # a policy-gradient model has no target network
    if q_model:
        loss_name, loss_args = one(spec.get("loss") or schema_default(fields, "loss"))
        loss = lower_loss(
            ctx, loss_name, loss_args, path + ("loss", loss_name), "float"
        )
        if loss_args.get("output_layer") is not None:  # 2017's routing of a loss
            ctx.warn(
                path + ("loss", loss_name, "output_layer"),
                "'output_layer' is ignored",
                "ignored-key",
                "an agent's loss compares the values of the actions taken with their targets",
                key=True,
            )
        exploration = _exploration(ctx, kind, spec, path)
    else:  # the algorithm's own numbers
        params = {k: or_default(spec, fields, k) for k in rl.PG_MODELS[kind].params}
    dueling = or_default(spec, fields, "dueling") if "dueling" in fields else None
    return rl_ir.Agent(
        kind=kind,
        name=spec.get("name")
        or ctx.doc.data["project"]["name"].lstrip("_-")
        or "agent",
        graph=graph,
        dense_stack=_dense_stack(graph),
        optimizer=optimizer,
        loss=loss,
        discount=float(or_default(spec, fields, "discount")),
        dueling=dueling or None,
        target_update_frequency=(
            or_default(spec, fields, "target_update_frequency") if q_model else None
        ),
        target_update_tau=(
            float(or_default(spec, fields, "target_update_tau")) if q_model else None
        ),
        exploration=exploration,
        params=tuple(params.items()),
    )


def _dense_stack(graph: Any) -> tuple[rl_ir.DenseLayer, ...] | None:
    """The torso as plain Dense layers, if it is one (the script then acts in numpy)."""
    stack = []
    dense = keras_layers()["Dense"]["properties"]
    previous = graph.inputs[0].var if len(graph.inputs) == 1 else None
    for layer in graph.layers:
        kwargs = dict(layer.call.kwargs)
        activation = kwargs.get("activation") or "linear"
        if (
            layer.call.func.qualname != "keras.layers.Dense"
            or layer.inputs != (previous,)
            or not set(kwargs) <= _DENSE_KEYS
            or activation not in NUMPY_ACTIVATIONS
        ):
            return None
        stack.append(
            rl_ir.DenseLayer(activation, or_default(kwargs, dense, "use_bias"))
        )
        previous = layer.var
    if not stack or graph.outputs != (previous,):
        return None
    return tuple(stack)


def _exploration(
    ctx: Context, kind: str, spec: dict[str, Any], path: Path
) -> rl_ir.Exploration:
    continuous = kind == "naf"
    default = rl.CONTINUOUS_EXPLORATION if continuous else rl.DISCRETE_EXPLORATION
    name, args = one(spec.get("exploration") or default)
    entry = rl.EXPLORATIONS[name]
    epath = path + ("exploration", name)
    allowed = rl.CONTINUOUS_EXPLORATIONS if continuous else rl.DISCRETE_EXPLORATIONS
    if name not in allowed:
        what = "continuous actions" if continuous else "discrete actions"
        ctx.fail(
            epath,
            f"{name} exploration is not for {what} ({kind})",
            "wrong-exploration",
            "use one of: " + ", ".join(allowed),
            key=True,
        )
    values = entry.complete(args)
    if entry.noise == "ou":
        ou = tuple((k, float(v)) for k, v in values.items())
        return rl_ir.Exploration(name, "ou", 0.0, None, ou)
    # Epsilon-greedy has no meaning for continuous actions: they take Gaussian noise.
    noise = "gaussian" if continuous else entry.noise
    if "decay_type" not in values:  # a fixed rate: the config's value, or the entry's
        rate = values.get("value", entry.rate)
        assert rate is not None, name
        return rl_ir.Exploration(name, noise, float(rate), None, ())
    decay_type = values["decay_type"]
    check_decay_rate(ctx, decay_type, values["decay_rate"], args, epath)
    check_decay_window(ctx, values, args, epath)
    floor = float(values["min_exploration_rate"])
    end: float = values["end_exploration_rate"]
    if end is None:  # min_exploration_rate when given, else 2017's
        end = floor if "min_exploration_rate" in args else rl.END_EXPLORATION_RATE
    decay = ir.Decay(
        kind=decay_type,
        rate=float(values["exploration_rate"]),
        decay_steps=values["decay_steps"],
        decay_rate=float(values["decay_rate"]),
        staircase=values["staircase"],
        start=values["start_decay_at"],
        stop=float(values["stop_decay_at"]),
        window=bool(values["start_decay_at"])
        or values["stop_decay_at"] < entry.default("stop_decay_at"),
        floor=floor,
        end=float(end),
        power=float(values["power"]),
    )
    return rl_ir.Exploration(name, noise, decay.rate, decay, ())
