"""Optimizers and their learning-rate decay: the 2017 names, arguments and defaults.

Each optimizer entry also names the Keras optimizer lowering calls (`symbol`),
which 2017 arguments it passes and under which Keras name (`renames`), and the
keyword arguments it always passes (`fixed`); KERAS_DEFAULTS holds Keras' own
defaults for those keywords, which the script leaves out. The learning rate and the decay
arguments are not renamed: lowering turns them into a learning-rate schedule.
Where Keras' optimizer computes something else than tf.train's did for the
same arguments, `script_class` names the script's own subclass of `symbol`
(templates/model.py.j2) that computes what tf.train did.
Each decay entry says what its formula needs, and which Keras schedule computes
it (`schedule`, `schedule_args`: the Keras keyword of each ir.Decay field) where one
does; the formula itself is written once, in templates/decay.py.j2, for learning
and exploration rates alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from plxgen.schema.registry.common import JSON, Entry, boolean, enum, integer, number


@dataclass(frozen=True, kw_only=True)
class DecayEntry(Entry):
    """A decay function of tf.train (2017); its description is its formula.

    `needs_rate`: the formula decays by decay_rate, which must then be above 0;
    `staircase`: tf.train's function took `staircase` for a learning rate;
    `exploration`: an exploration rate may decay so (it decays a rate, not a list).
    """

    needs_rate: bool = False
    staircase: bool = True
    exploration: bool = True
    schedule: str | None = None
    schedule_args: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class OptimizerEntry(Entry):
    """An optimizer; `script_class` is the script's own subclass of `symbol` that
    computes what tf.train's optimizer did (`decayed_only`: only with a decaying
    learning rate and a non-zero momentum, where Keras' update differs)."""

    script_class: str | None = None
    decayed_only: bool = False


# tf.train's learning-rate decay functions of 2017, by name.
DECAYS: dict[str, DecayEntry] = {
    "exponential_decay": DecayEntry(
        "rate * decay_rate ** (step / decay_steps)",
        needs_rate=True,
        schedule="keras.optimizers.schedules.ExponentialDecay",
        schedule_args={
            "rate": "initial_learning_rate",
            "decay_steps": "decay_steps",
            "decay_rate": "decay_rate",
            "staircase": "staircase",
        },
    ),
    "inverse_time_decay": DecayEntry(
        "rate / (1 + decay_rate * step / decay_steps)",
        needs_rate=True,
        schedule="keras.optimizers.schedules.InverseTimeDecay",
        schedule_args={
            "rate": "initial_learning_rate",
            "decay_steps": "decay_steps",
            "decay_rate": "decay_rate",
            "staircase": "staircase",
        },
    ),
    "natural_exp_decay": DecayEntry(
        "rate * exp(-decay_rate * step / decay_steps)", needs_rate=True
    ),
    "piecewise_constant": DecayEntry(
        "values[i] from boundaries[i - 1] (step 0 for i = 0) to boundaries[i]",
        staircase=False,
        exploration=False,
        schedule="keras.optimizers.schedules.PiecewiseConstantDecay",
        schedule_args={"boundaries": "boundaries", "values": "values"},
    ),
    "polynomial_decay": DecayEntry(
        "(rate - end) * (1 - min(step, decay_steps) / decay_steps) ** power + end",
        staircase=False,
        schedule="keras.optimizers.schedules.PolynomialDecay",
        schedule_args={
            "rate": "initial_learning_rate",
            "decay_steps": "decay_steps",
            "end": "end_learning_rate",
            "power": "power",
        },
    ),
}
DECAY_TYPES = list(DECAYS)

# Decay arguments that read the same for a learning rate and an exploration rate.
DECAY_RATE = number(
    0.0, "The decay rate (exponential, inverse_time, natural_exp).", minimum=0
)
STAIRCASE = boolean(False, "Decay in discrete steps of decay_steps.")
POWER = number(
    1.0, "polynomial_decay: the power of the polynomial.", exclusiveMinimum=0
)


def _decay_params(decay_steps: int) -> dict[str, JSON]:
    return {
        "decay_type": enum(
            DECAY_TYPES + [""],
            "",
            "Learning-rate decay, as tf.train's function of that name ('' = none).",
        ),
        "decay_rate": DECAY_RATE,
        "decay_steps": integer(decay_steps, "Decay period in steps.", minimum=1),
        "start_decay_at": integer(
            0, "The learning rate stays constant before this step.", minimum=0
        ),
        "stop_decay_at": number(
            1e10, "The learning rate stops decaying after this step.", minimum=0
        ),
        "min_learning_rate": number(
            1e-12, "The learning rate never decays below this.", minimum=0
        ),
        "staircase": STAIRCASE,
        "boundaries": {
            "type": "array",
            "items": {"type": "integer", "minimum": 0},
            "description": "piecewise_constant: the steps where the learning rate changes.",
        },
        "values": {
            "type": "array",
            "items": {"type": "number"},
            "description": "piecewise_constant: the learning rates, one more than boundaries.",
        },
        "end_learning_rate": number(
            0.0001, "polynomial_decay: the final learning rate.", minimum=0
        ),
        "power": POWER,
    }


def _lr(default: float) -> JSON:
    return number(default, "The learning rate.", exclusiveMinimum=0)


# Each Keras optimizer's own defaults for the keywords an entry passes: a 2017
# default equal to Keras' is left out of the script (a value the config gives
# is always written).
KERAS_DEFAULTS: dict[str, dict[str, Any]] = {
    "keras.optimizers.SGD": {"momentum": 0.0, "nesterov": False},
    "keras.optimizers.RMSprop": {"rho": 0.9, "momentum": 0.0, "epsilon": 1e-07},
    "keras.optimizers.Adam": {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07},
    "keras.optimizers.Adagrad": {"initial_accumulator_value": 0.1},
    "keras.optimizers.Adadelta": {"rho": 0.95, "epsilon": 1e-07},
    "keras.optimizers.Ftrl": {
        "learning_rate_power": -0.5,
        "initial_accumulator_value": 0.1,
        "l1_regularization_strength": 0.0,
        "l2_regularization_strength": 0.0,
    },
}

_MOMENTUM = number(0.9, "Momentum.", minimum=0)
_EPSILON = number(1e-08, "Small constant for numerical stability.", exclusiveMinimum=0)

OPTIMIZERS: dict[str, OptimizerEntry] = {
    "SGD": OptimizerEntry(
        "Gradient descent (keras.optimizers.SGD).",
        {"learning_rate": _lr(0.01), **_decay_params(100)},
        symbol="keras.optimizers.SGD",
    ),
    "Momentum": OptimizerEntry(
        "Gradient descent with momentum (keras.optimizers.SGD).",
        {"learning_rate": _lr(0.001), "momentum": _MOMENTUM, **_decay_params(10000)},
        symbol="keras.optimizers.SGD",
        renames={"momentum": "momentum"},
        # tf.train's accumulator sums gradients and the current rate scales it;
        # Keras' SGD accumulates rate * gradient: they differ once the rate decays.
        script_class="Momentum",
        decayed_only=True,
    ),
    "Nestrov": OptimizerEntry(
        "Nesterov momentum (keras.optimizers.SGD, nesterov=True). The 2017 spelling is kept.",
        {"learning_rate": _lr(0.001), "momentum": _MOMENTUM, **_decay_params(10000)},
        symbol="keras.optimizers.SGD",
        renames={"momentum": "momentum"},
        fixed={"nesterov": True},
        script_class="Momentum",
        decayed_only=True,
    ),
    "RMSProp": OptimizerEntry(
        "RMSProp (keras.optimizers.RMSprop; 2017 `decay` is Keras' `rho`).",
        {
            "learning_rate": _lr(0.001),
            "decay": number(
                0.9,
                "Discounting factor of the squared-gradient average (Keras: rho).",
                minimum=0,
            ),
            "momentum": number(0.0, "Momentum.", minimum=0),
            "epsilon": number(
                1e-10, "Small value to avoid a zero denominator.", exclusiveMinimum=0
            ),
            **_decay_params(10000),
        },
        symbol="keras.optimizers.RMSprop",
        renames={"decay": "rho", "momentum": "momentum", "epsilon": "epsilon"},
        # tf.train's mean square starts at ones, Keras' at zeros.
        script_class="RMSProp",
    ),
    "Adam": OptimizerEntry(
        "Adam (keras.optimizers.Adam).",
        {
            "learning_rate": _lr(0.001),
            "beta1": number(
                0.9, "Decay rate of the first-moment estimates.", minimum=0, maximum=1
            ),
            "beta2": number(
                0.999,
                "Decay rate of the second-moment estimates.",
                minimum=0,
                maximum=1,
            ),
            "epsilon": _EPSILON,
            **_decay_params(10000),
        },
        symbol="keras.optimizers.Adam",
        renames={"beta1": "beta_1", "beta2": "beta_2", "epsilon": "epsilon"},
    ),
    "Adagrad": OptimizerEntry(
        "Adagrad (keras.optimizers.Adagrad).",
        {
            "learning_rate": _lr(0.01),
            "initial_accumulator_value": number(
                0.1, "Starting value of the accumulators.", exclusiveMinimum=0
            ),
            **_decay_params(10000),
        },
        symbol="keras.optimizers.Adagrad",
        renames={"initial_accumulator_value": "initial_accumulator_value"},
    ),
    "Adadelta": OptimizerEntry(
        "Adadelta (keras.optimizers.Adadelta).",
        {
            "learning_rate": _lr(0.99),
            "rho": number(0.95, "Decay rate.", minimum=0, maximum=1),
            "epsilon": _EPSILON,
            **_decay_params(10000),
        },
        symbol="keras.optimizers.Adadelta",
        renames={"rho": "rho", "epsilon": "epsilon"},
    ),
    "Ftrl": OptimizerEntry(
        "FTRL-proximal (keras.optimizers.Ftrl).",
        {
            "learning_rate": _lr(3.0),
            "learning_rate_power": number(-0.5, "Must be <= 0.", maximum=0),
            "initial_accumulator_value": number(
                0.1, "Starting value of the accumulators.", minimum=0
            ),
            "l1_regularization_strength": number(
                0.0, "L1 regularization strength.", minimum=0
            ),
            "l2_regularization_strength": number(
                0.0, "L2 regularization strength.", minimum=0
            ),
            **_decay_params(10000),
        },
        symbol="keras.optimizers.Ftrl",
        renames={
            "learning_rate_power": "learning_rate_power",
            "initial_accumulator_value": "initial_accumulator_value",
            "l1_regularization_strength": "l1_regularization_strength",
            "l2_regularization_strength": "l2_regularization_strength",
        },
    ),
}
