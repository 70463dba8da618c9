"""Name tables and schema pieces of reinforcement-learning experiment files.

An RL file names its model kind (`dqn`, `ddqn`, `naf`, `vpg`, `trpo`) under
`model`; its `train` section has an environment and a memory instead of a data
pipeline, and its `eval` section counts episodes. `plxgen.schema.build` builds the
JSON Schema from these tables; `plxgen.compiler.lower.rl` reads the same defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from plxgen.schema.registry.common import (
    END,
    IDENTIFIER,
    JSON,
    Entry,
    boolean,
    enum,
    integer,
    number,
)
from plxgen.schema.registry.optimizers import DECAY_RATE, DECAYS, POWER, STAIRCASE

# Losses a Q model may regress its TD targets with.
Q_LOSSES = ("HuberLoss", "MeanSquaredError", "AbsoluteDifference")

# How an exploration rate may decay: the learning-rate decays but piecewise_constant
# (a list of rates, not a rate), the default first.
_DECAY_TYPES = ["polynomial_decay"] + [
    kind
    for kind, decay in DECAYS.items()
    if decay.exploration and kind != "polynomial_decay"
]
# polynomial_decay's end_exploration_rate when neither it nor min_exploration_rate is given.
END_EXPLORATION_RATE = 0.0001

_RATE = {"minimum": 0}
_DISCOUNT = number(0.97, "The discount factor gamma.", minimum=0, maximum=1)


def _decay(rate: float, steps: int) -> dict[str, JSON]:
    return {
        "exploration_rate": number(
            rate, "The exploration rate at step 0 (epsilon, or a noise scale).", **_RATE
        ),
        "decay_type": enum(
            _DECAY_TYPES,
            "polynomial_decay",
            "How the rate decays with environment steps.",
        ),
        "decay_steps": integer(steps, "Decay period in environment steps.", minimum=1),
        "decay_rate": DECAY_RATE,
        "start_decay_at": integer(
            0, "The rate stays constant before this environment step.", minimum=0
        ),
        "stop_decay_at": number(
            1e9, "The rate stops decaying after this environment step.", minimum=0
        ),
        "staircase": STAIRCASE,
        "min_exploration_rate": number(
            0.0, "The rate never decays below this.", **_RATE
        ),
        "end_exploration_rate": number(
            None,
            "polynomial_decay: the rate reached after decay_steps (default: "
            f"min_exploration_rate when given, else {END_EXPLORATION_RATE} as in 2017).",
            **_RATE,
        ),
        "power": POWER,
    }


@dataclass(frozen=True, kw_only=True)
class ExplorationEntry(Entry):
    """How a Q model acts in training; a `decay_type` argument makes its rate decay.

    `noise` is how it explores discrete actions: epsilon-greedy (`epsilon`),
    Gaussian noise on the Q values (`gaussian`) or Ornstein-Uhlenbeck noise
    (`ou`); continuous actions take Gaussian noise for epsilon. `rate` is a
    rate it fixes; `discrete` and `continuous` say which actions it is for.
    """

    noise: str = "epsilon"
    rate: float | None = None
    discrete: bool = True
    continuous: bool = True


EXPLORATIONS: dict[str, ExplorationEntry] = {
    "Constant": ExplorationEntry(
        "A fixed exploration rate: epsilon (discrete actions) or the standard deviation "
        "of Gaussian action noise (continuous actions).",
        {"value": number(0.5, "The rate.", **_RATE)},
    ),
    "Greedy": ExplorationEntry("Never explore (rate 0).", rate=0.0),
    "Random": ExplorationEntry(
        "Always act at random (rate 1).", rate=1.0, continuous=False
    ),
    "Decay": ExplorationEntry(
        "Epsilon-greedy (discrete) or Gaussian action noise (continuous) with a decaying "
        "rate, one coin per step.",
        _decay(0.15, 100000),
    ),
    "RandomDecay": ExplorationEntry(
        "Gaussian noise of a decaying scale added to the Q values (discrete: a noisy "
        "argmax) or to the action (continuous), drawn afresh every step.",
        _decay(0.15, 10000),
        noise="gaussian",
    ),
    "OrnsteinUhlenbeck": ExplorationEntry(
        "Temporally correlated action noise for continuous actions: "
        "x += theta * (mu - x) * dt + sigma * sqrt(dt) * N(0, 1), reset every episode.",
        {
            "sigma": number(0.3, "Scale of the noise.", minimum=0),
            "mu": number(0.0, "The mean the noise reverts to."),
            "theta": number(0.15, "Speed of the reversion.", minimum=0),
            "dt": number(0.01, "Time step of the process.", exclusiveMinimum=0),
        },
        noise="ou",
        discrete=False,
    ),
}
# How a Q model explores unless its config says: discrete actions, continuous (naf).
DISCRETE_EXPLORATION = "Decay"
CONTINUOUS_EXPLORATION = "OrnsteinUhlenbeck"
# What continuous actions may use (acting at random has no meaning there), and discrete.
CONTINUOUS_EXPLORATIONS = tuple(
    name for name, entry in EXPLORATIONS.items() if entry.continuous
)
DISCRETE_EXPLORATIONS = tuple(
    name for name, entry in EXPLORATIONS.items() if entry.discrete
)

# A dotted Python module name (`env_module`): what the script imports, nothing more.
MODULE = "^[A-Za-z_][A-Za-z0-9_]*([.][A-Za-z_][A-Za-z0-9_]*)*" + END

ENVIRONMENTS: dict[str, Entry] = {
    "Gym": Entry(
        "A Gymnasium environment, by its registered id (gymnasium.make).",
        {
            "env_id": {
                "type": "string",
                "minLength": 1,
                "description": "A registered environment id, e.g. CartPole-v1 or Pendulum-v1. "
                "Not `module:Env-v0` (gymnasium would import the module): name the module "
                "with env_module.",
            },
            "env_module": {
                "type": "string",
                "pattern": MODULE,
                "patternErrorMessage": "a dotted Python module name, e.g. my_envs or my_pkg.envs",
                "description": "A Python module that registers env_id when imported (e.g. "
                "ale_py, or a package of your own); the script imports it before making the "
                "environment.",
            },
            "max_episode_steps": integer(
                None,
                "Truncate episodes after this many steps (default: the environment's own limit).",
                minimum=1,
            ),
            "kwargs": {
                "type": "object",
                "additionalProperties": {
                    "type": ["string", "number", "boolean", "null"]
                },
                "propertyNames": {"pattern": IDENTIFIER},
                "description": "Keyword arguments of the environment's constructor.",
            },
        },
        ("env_id",),
    ),
}

MEMORIES: dict[str, Entry] = {
    "Memory": Entry(
        "Uniform experience replay (Q models): the last `size` transitions, sampled "
        "uniformly without replacement in batches.",
        {
            "size": integer(5000, "Transitions kept.", minimum=1),
            "batch_size": integer(32, "Transitions per gradient step.", minimum=1),
        },
    ),
    "BatchMemory": Entry(
        "On-policy batches (policy-gradient models): `batch_size` environment steps are "
        "collected with the current policy, used for one update, then dropped.",
        {"batch_size": integer(5000, "Environment steps per update.", minimum=2)},
    ),
}


def _q_model(description: str, continuous: bool) -> Entry:
    fields: dict[str, JSON] = {
        "target_update_frequency": integer(
            5,
            "Update the target network every N environment steps (only after it "
            "trained since the last update).",
            minimum=1,
        ),
        "target_update_tau": number(
            1.0,
            "1.0 copies the network into the target; below 1, a soft (Polyak) update "
            "target = tau * network + (1 - tau) * target.",
            exclusiveMinimum=0,
            maximum=1,
        ),
    }
    if not continuous:
        fields["dueling"] = {
            "enum": [False, "mean", "max", "naive"],
            "default": "mean",
            "description": "Dueling heads: Q = V + (A - mean A) | V + (A - max A) | V + A; "
            "false: one Q head.",
        }
    return Entry(description, fields)


# The Q model kinds, with the fields of their own (all have a loss, an exploration
# and a discount besides those every model has: sections/model.py).
Q_MODELS: dict[str, Entry] = {
    "dqn": _q_model(
        "Deep Q-network (discrete actions) with a target network.", continuous=False
    ),
    "ddqn": _q_model(
        "Double DQN: the network picks the next action, the target network values it.",
        continuous=False,
    ),
    "naf": _q_model(
        "Normalized advantage functions (continuous actions): "
        "Q = V(s) - 1/2 (a - mu(s))^T P(s) (a - mu(s)).",
        continuous=True,
    ),
}
_PG: dict[str, JSON] = {
    "gae_lambda": number(
        0.95,
        "Generalized advantage estimation: 1.0 is the discounted return minus "
        "the value baseline, 0.0 the one-step TD error.",
        minimum=0,
        maximum=1,
    ),
    "value_iterations": integer(
        10,
        "Epochs of the value baseline (a copy of the graph) over each batch, in "
        "minibatches of 64 steps.",
        minimum=1,
    ),
    "value_learning_rate": number(
        0.001, "Adam learning rate of the value baseline.", exclusiveMinimum=0
    ),
}
# The policy-gradient kinds; their fields (discount aside) are the algorithm's numbers.
PG_MODELS: dict[str, Entry] = {
    "vpg": Entry(
        "Vanilla policy gradient (REINFORCE) with a value baseline; discrete or "
        "continuous (Gaussian) actions.",
        {
            **_PG,
            "entropy_coefficient": number(
                0.0, "Weight of the entropy bonus.", minimum=0
            ),
            "policy_iterations": integer(
                1, "Gradient steps of the policy per batch.", minimum=1
            ),
        },
    ),
    "trpo": Entry(
        "Trust-region policy optimization: a natural-gradient step by conjugate "
        "gradient, within a KL bound, by backtracking line search. The optimizer "
        "is unused (the value baseline has its own Adam).",
        {
            **_PG,
            "max_kl_divergence": number(
                0.005, "The trust region: mean KL(old || new).", exclusiveMinimum=0
            ),
            "cg_damping": number(
                0.001, "Damping added to the Fisher-vector products.", minimum=0
            ),
            "cg_iterations": integer(20, "Conjugate-gradient iterations.", minimum=1),
            "line_search_iterations": integer(
                20, "Backtracking steps (each halves the step).", minimum=1
            ),
        },
    ),
}
Q_KINDS = tuple(Q_MODELS)
PG_KINDS = tuple(PG_MODELS)
KINDS = Q_KINDS + PG_KINDS


def model_kinds(
    common: dict[str, JSON], loss: JSON, exploration: JSON
) -> dict[str, JSON]:
    """The schema of each RL model kind, given the fields every model shares."""

    def obj(entry: Entry, fields: dict[str, JSON]) -> JSON:
        return {
            "type": "object",
            "description": entry.description,
            "properties": {**common, **fields, **entry.params},
            "additionalProperties": False,
            "required": ["graph"],
        }

    q = {"loss": loss, "exploration": exploration, "discount": _DISCOUNT}
    return {
        **{kind: obj(entry, q) for kind, entry in Q_MODELS.items()},
        **{
            kind: obj(entry, {"discount": _DISCOUNT})
            for kind, entry in PG_MODELS.items()
        },
    }


# train: keys only Q models use (a policy-gradient model updates once per batch).
Q_TRAIN: dict[str, JSON] = {
    "first_update": integer(
        1000,
        "Q models: act at random and only store transitions for this many "
        "environment steps before the first update.",
        minimum=0,
    ),
    "update_frequency": integer(
        10, "Q models: train every N environment steps.", minimum=1
    ),
    "gradient_steps": integer(1, "Q models: gradient steps per update.", minimum=1),
}
# eval: greedy evaluation episodes.
EVAL: dict[str, JSON] = {
    "episodes": integer(10, "Episodes per evaluation.", minimum=1),
    "every_steps": integer(
        None,
        "Also evaluate (greedy, on seeds apart from the final evaluation's) every N "
        "environment steps of training (default: a fiftieth of train_steps when "
        "keep_best is on, else never).",
        minimum=1,
    ),
    "keep_best": boolean(
        True,
        "The final evaluation (and --schedule evaluate) uses the policy that scored "
        "best in those periodic evaluations (the latest one on a tie), not "
        "necessarily the last: Q-learning can forget a solved task late in training.",
    ),
}


def train_section(named: Callable[[dict[str, Entry], str], JSON]) -> JSON:
    """`train:` of an RL file; `named` builds a `Name: {args}` schema from a family."""
    return {
        "type": "object",
        "description": "Training: environment steps, the environment and the memory.",
        "properties": {
            "train_steps": integer(
                None,
                "Environment steps over the whole run, resumed or not.",
                minimum=1,
            ),
            "env": named(ENVIRONMENTS, "The environment."),
            "memory": named(MEMORIES, "Where transitions are kept until training."),
            **Q_TRAIN,
        },
        "additionalProperties": False,
        "required": ["train_steps", "env", "memory"],
    }


def eval_section() -> JSON:
    """`eval:` of an RL file."""
    return {
        "type": "object",
        "description": "Greedy evaluation episodes on a separately seeded environment.",
        "properties": EVAL,
        "additionalProperties": False,
    }
