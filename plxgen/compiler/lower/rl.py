"""Validated RL documents -> rl_ir.RLExperiment, with the checks a schema cannot express."""

from __future__ import annotations

from typing import Any

from plxgen.compiler import rl_ir
from plxgen.compiler.load import Path
from plxgen.compiler.lower.context import Context, one
from plxgen.compiler.lower.environment import lower_logging, lower_run_config
from plxgen.compiler.lower.graph import lower_graph
from plxgen.compiler.lower.losses import lower_loss
from plxgen.compiler.lower.model import lower_optimizer
from plxgen.schema import rl_registry

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
# train keys that only Q models use.
_Q_TRAIN_KEYS = ("first_update", "update_frequency", "gradient_steps")
_PG_DEFAULTS = {
    "gae_lambda": 0.95,
    "value_iterations": 10,
    "value_learning_rate": 0.001,
    "entropy_coefficient": 0.0,
    "policy_iterations": 1,
    "max_kl_divergence": 0.005,
    "cg_damping": 0.001,
    "cg_iterations": 20,
    "line_search_iterations": 20,
}
_PG_KEYS = {
    "vpg": (
        "gae_lambda",
        "value_iterations",
        "value_learning_rate",
        "entropy_coefficient",
        "policy_iterations",
    ),
    "trpo": (
        "gae_lambda",
        "value_iterations",
        "value_learning_rate",
        "max_kl_divergence",
        "cg_damping",
        "cg_iterations",
        "line_search_iterations",
    ),
}


def lower_rl(ctx: Context, kind: str, spec: dict[str, Any]) -> rl_ir.RLExperiment:
    """Lower a document whose model is an RL kind (dqn, ddqn, naf, vpg, trpo)."""
    data = ctx.doc.data
    train = data["train"]
    path: Path = ("model", kind)
    agent = _agent(ctx, kind, spec, path)
    _, env_args = one(train["env"])  # Gym, the one environment kind
    env = rl_ir.Env(
        env_id=env_args["env_id"],
        max_episode_steps=env_args.get("max_episode_steps"),
        kwargs=tuple(sorted((env_args.get("kwargs") or {}).items())),
    )
    memory = _memory(ctx, kind, train)
    first_update = train.get("first_update", 1000)
    if kind in rl_registry.Q_KINDS and memory.kind == "replay":
        if first_update < memory.batch_size:
            ctx.fail(
                ("train", "first_update") if "first_update" in train else ("train",),
                f"first_update ({first_update}) is below the memory's batch_size ({memory.batch_size}): "
                "the first update could not fill a batch",
                "first-update",
                f"set first_update: {memory.batch_size} or more",
                key="first_update" in train,
            )
    if kind in rl_registry.PG_KINDS:
        for key in _Q_TRAIN_KEYS:
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
    keep_best = evaluation.get("keep_best", True)
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
        update_frequency=train.get("update_frequency", 10),
        gradient_steps=train.get("gradient_steps", 1),
        eval_episodes=evaluation.get("episodes", 10),
        eval_every_steps=evaluation.get("every_steps")
        or (max(train["train_steps"] // 50, 1) if keep_best else None),
        keep_best=keep_best,
        resolved_config=data,
    )
    ctx.check()
    return experiment


def _memory(ctx: Context, kind: str, train: dict[str, Any]) -> rl_ir.Memory:
    name, args = one(train["memory"])
    if name == "Memory":
        memory = rl_ir.Memory(
            "replay", args.get("size", 5000), args.get("batch_size", 32)
        )
        if memory.batch_size > memory.size:
            ctx.fail(
                ("train", "memory", name, "batch_size"),
                f"batch_size ({memory.batch_size}) is larger than size "
                f"({memory.size})",
                "batch-size",
                "a batch is drawn from the transitions the memory keeps",
            )
    else:
        size = args.get("batch_size", 5000)
        memory = rl_ir.Memory("batch", size, size)
    wanted = "Memory" if kind in rl_registry.Q_KINDS else "BatchMemory"
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
    opt_name, opt_args = one(spec.get("optimizer") or "Adam")
    optimizer = lower_optimizer(
        ctx,
        opt_name,
        opt_args,
        path + ("optimizer", opt_name),
        spec.get("clip_gradients", 0.5),
    )
    loss = None
    exploration = None
    params: dict[str, Any] = {}
    if kind in rl_registry.Q_KINDS:
        loss_name, loss_args = one(spec.get("loss") or "HuberLoss")
        loss = lower_loss(
            ctx, loss_name, loss_args, path + ("loss", loss_name), "float"
        )
        exploration = _exploration(ctx, kind, spec, path)
    else:
        params = {k: spec.get(k, _PG_DEFAULTS[k]) for k in _PG_KEYS[kind]}
    dueling = spec.get("dueling", "mean") if kind in ("dqn", "ddqn") else None
    return rl_ir.Agent(
        kind=kind,
        name=spec.get("name")
        or ctx.doc.data["project"]["name"].lstrip("_-")
        or "agent",
        graph=graph,
        dense_stack=_dense_stack(graph),
        optimizer=optimizer,
        loss=loss,
        discount=float(spec.get("discount", 0.97)),
        dueling=dueling or None,
        target_update_frequency=spec.get("target_update_frequency", 5),
        target_update_tau=float(spec.get("target_update_tau", 1.0)),
        exploration=exploration,
        params=tuple(params.items()),
    )


def _dense_stack(graph: Any) -> tuple[rl_ir.DenseLayer, ...] | None:
    """The torso as plain Dense layers, if it is one (the script then acts in numpy)."""
    stack = []
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
        stack.append(rl_ir.DenseLayer(activation, kwargs.get("use_bias", True)))
        previous = layer.var
    if not stack or graph.outputs != (previous,):
        return None
    return tuple(stack)


def _exploration(
    ctx: Context, kind: str, spec: dict[str, Any], path: Path
) -> rl_ir.Exploration:
    continuous = kind == "naf"
    default = "OrnsteinUhlenbeck" if continuous else "Decay"
    name, args = one(spec.get("exploration") or default)
    epath = path + ("exploration", name)
    allowed = (
        rl_registry.CONTINUOUS_EXPLORATIONS
        if continuous
        else rl_registry.DISCRETE_EXPLORATIONS
    )
    if name not in allowed:
        what = "continuous actions" if continuous else "discrete actions"
        ctx.fail(
            epath,
            f"{name} exploration is not for {what} ({kind})",
            "wrong-exploration",
            "use one of: " + ", ".join(allowed),
            key=True,
        )
    if name == "OrnsteinUhlenbeck":
        ou = tuple(
            (k, float(args.get(k, default)))
            for k, default in (
                ("sigma", 0.3),
                ("mu", 0.0),
                ("theta", 0.15),
                ("dt", 0.01),
            )
        )
        return rl_ir.Exploration(name, "ou", 0.0, None, ou)
    noise = "gaussian" if continuous or name == "RandomDecay" else "epsilon"
    if name in ("Constant", "Greedy", "Random"):
        rate = {"Greedy": 0.0, "Random": 1.0}.get(name, args.get("value", 0.5))
        return rl_ir.Exploration(name, noise, float(rate), None, ())
    decay_type = args.get("decay_type", "polynomial_decay")
    decay_rate = args.get("decay_rate", 0.0)
    if decay_type != "polynomial_decay" and not decay_rate:
        ctx.fail(
            epath + (("decay_rate",) if "decay_rate" in args else ("decay_type",)),
            f"{decay_type} needs a decay_rate above 0",
            "decay-rate",
            "set decay_rate, e.g. 0.96",
            key=True,
        )
    floor = float(args.get("min_exploration_rate", 0.0))
    end = args.get(
        "end_exploration_rate", floor if "min_exploration_rate" in args else 0.0001
    )
    decay = rl_ir.RateDecay(
        kind=decay_type,
        rate=float(args.get("exploration_rate", 0.15)),
        decay_steps=args.get("decay_steps", 100000 if name == "Decay" else 10000),
        decay_rate=float(decay_rate),
        start=args.get("start_decay_at", 0),
        stop=float(args.get("stop_decay_at", 1e9)),
        staircase=args.get("staircase", False),
        floor=floor,
        end=float(end),
        power=float(args.get("power", 1.0)),
    )
    return rl_ir.Exploration(name, noise, decay.rate, decay, ())
