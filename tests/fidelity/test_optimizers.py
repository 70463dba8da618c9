"""Every optimizer and learning-rate decay of a generated script, step by step
against its tf.compat.v1.train counterpart (as the 2017 tool called it).

A tiny linear least-squares problem with fixed data: the weights after each
step, and the learning rate at each step, agree with tf.compat.v1's.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

from tests.fidelity.conftest import Scripts, config

tf = pytest.importorskip("tensorflow")
v1 = tf.compat.v1

STEPS = 30
_rs = np.random.RandomState(0)
X = _rs.randn(8, 3).astype("float32")
Y = _rs.randn(8, 2).astype("float32")
W0 = (_rs.randn(3, 2) * 0.5).astype("float32")


def _loss(w: Any) -> Any:
    return tf.reduce_mean(tf.square(tf.matmul(X, w) - Y))


# The 2017 optimizers by name: tf.train's class, called with the 2017 arguments
# (every default written out, so that a changed plxgen default also fails).
TF1_OPTIMIZERS: dict[str, tuple[dict[str, Any], Callable[..., Any]]] = {
    "SGD": (
        {"learning_rate": 0.05},
        lambda lr, a: v1.train.GradientDescentOptimizer(lr),
    ),
    "Momentum": (
        {"learning_rate": 0.05, "momentum": 0.9},
        lambda lr, a: v1.train.MomentumOptimizer(lr, a["momentum"]),
    ),
    "Nestrov": (
        {"learning_rate": 0.05, "momentum": 0.9},
        lambda lr, a: v1.train.MomentumOptimizer(lr, a["momentum"], use_nesterov=True),
    ),
    "RMSProp": (
        {"learning_rate": 0.01, "decay": 0.9, "momentum": 0.0, "epsilon": 1e-10},
        lambda lr, a: v1.train.RMSPropOptimizer(
            lr, decay=a["decay"], momentum=a["momentum"], epsilon=a["epsilon"]
        ),
    ),
    "Adam": (
        {"learning_rate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
        lambda lr, a: v1.train.AdamOptimizer(lr, a["beta1"], a["beta2"], a["epsilon"]),
    ),
    "Adagrad": (
        {"learning_rate": 0.1, "initial_accumulator_value": 0.1},
        lambda lr, a: v1.train.AdagradOptimizer(lr, a["initial_accumulator_value"]),
    ),
    "Adadelta": (
        {"learning_rate": 0.99, "rho": 0.95, "epsilon": 1e-8},
        lambda lr, a: v1.train.AdadeltaOptimizer(lr, a["rho"], a["epsilon"]),
    ),
    "Ftrl": (
        {
            "learning_rate": 0.5,
            "learning_rate_power": -0.5,
            "initial_accumulator_value": 0.1,
            "l1_regularization_strength": 0.001,
            "l2_regularization_strength": 0.002,
        },
        lambda lr, a: v1.train.FtrlOptimizer(
            lr,
            a["learning_rate_power"],
            a["initial_accumulator_value"],
            a["l1_regularization_strength"],
            a["l2_regularization_strength"],
        ),
    ),
}

# Decays, each one that changes the rate within STEPS (and the windows and floors).
DECAYS: list[dict[str, Any]] = [
    {"decay_type": "exponential_decay", "decay_rate": 0.5, "decay_steps": 10},
    {"decay_type": "exponential_decay", "decay_rate": 0.5, "decay_steps": 4, "staircase": True},
    {"decay_type": "exponential_decay", "decay_rate": 0.5, "decay_steps": 10, "min_learning_rate": 0},
    {"decay_type": "exponential_decay", "decay_rate": 0.3, "decay_steps": 5, "min_learning_rate": 0.004},
    {"decay_type": "exponential_decay", "decay_rate": 0.5, "decay_steps": 10, "start_decay_at": 5},
    {"decay_type": "inverse_time_decay", "decay_rate": 0.3, "decay_steps": 7},
    {"decay_type": "inverse_time_decay", "decay_rate": 0.3, "decay_steps": 7, "stop_decay_at": 20},
    {"decay_type": "inverse_time_decay", "decay_rate": 0.3, "decay_steps": 7, "staircase": True, "min_learning_rate": 0},
    {"decay_type": "natural_exp_decay", "decay_rate": 0.2, "decay_steps": 5},
    {"decay_type": "natural_exp_decay", "decay_rate": 0.2, "decay_steps": 5, "staircase": True, "min_learning_rate": 0.01},
    {"decay_type": "polynomial_decay", "decay_steps": 20, "end_learning_rate": 0.001, "power": 2.0},
    {"decay_type": "polynomial_decay", "decay_steps": 20, "end_learning_rate": 0.001, "min_learning_rate": 0.01},
    {"decay_type": "polynomial_decay", "decay_steps": 20, "start_decay_at": 3},
    {"decay_type": "piecewise_constant", "boundaries": [5, 12], "values": [0.05, 0.02, 0.005]},
    {"decay_type": "piecewise_constant", "boundaries": [5, 12], "values": [0.05, 0.02, 0.005], "min_learning_rate": 0.01},
]  # fmt: skip


def tf1_learning_rate(lr: float, decay: dict[str, Any] | None, step: Any) -> Any:
    """The 2017 learning rate: tf.train's decay function between start_decay_at and
    stop_decay_at, the initial rate before, never below min_learning_rate."""
    if not decay:
        return tf.constant(lr, "float32")
    kind = decay["decay_type"]
    start = float(decay.get("start_decay_at", 0))
    stop = float(decay.get("stop_decay_at", 1e10))
    ds = decay.get("decay_steps", 10000)
    rate = decay.get("decay_rate", 0.0)
    staircase = decay.get("staircase", False)
    step = tf.cast(step, "float32")
    x = tf.maximum(tf.minimum(step, stop) - start, 0.0)
    if kind == "exponential_decay":
        decayed = v1.train.exponential_decay(lr, x, ds, rate, staircase)
    elif kind == "inverse_time_decay":
        decayed = v1.train.inverse_time_decay(lr, x, ds, rate, staircase)
    elif kind == "natural_exp_decay":
        decayed = v1.train.natural_exp_decay(lr, x, ds, rate, staircase)
    elif kind == "polynomial_decay":
        end, power = decay.get("end_learning_rate", 0.0001), decay.get("power", 1.0)
        decayed = v1.train.polynomial_decay(lr, x, ds, end, power)
    else:
        boundaries = [float(b) for b in decay["boundaries"]]
        decayed = v1.train.piecewise_constant(x, boundaries, decay["values"])
    decayed = tf.where(step < start, tf.constant(lr, "float32"), decayed)
    return tf.maximum(decayed, decay.get("min_learning_rate", 1e-12))


def tf1_run(
    name: str, args: dict[str, Any], decay: dict[str, Any] | None, clip: float = 0.0
) -> tuple[list[float], list[np.ndarray]]:
    """The learning rate before each step and the weights after it, in a TF1 graph."""
    make = TF1_OPTIMIZERS[name][1]
    graph = tf.Graph()
    with graph.as_default():
        step = v1.train.get_or_create_global_step()
        w = v1.get_variable("w", initializer=W0)
        lr = tf1_learning_rate(args["learning_rate"], decay, step)
        optimizer = make(lr, args)
        loss = _loss(w)
        gradients = tf.gradients(loss, [w])
        if clip:
            gradients, _ = tf.clip_by_global_norm(gradients, clip)
        train = optimizer.apply_gradients(zip(gradients, [w]), global_step=step)
        with v1.Session(graph=graph) as session:
            session.run(v1.global_variables_initializer())
            rates, weights = [], []
            for _ in range(STEPS):
                rates.append(float(session.run(lr)))
                session.run(train)
                weights.append(session.run(w))
    return rates, weights


def keras_run(optimizer: Any) -> tuple[list[float], list[np.ndarray]]:
    """The same with the generated script's optimizer."""
    import keras

    w = keras.Variable(W0, name="w")
    rates, weights = [], []
    for _ in range(STEPS):
        rate = optimizer.learning_rate
        rates.append(float(rate(optimizer.iterations) if callable(rate) else rate))
        with tf.GradientTape() as tape:
            loss = _loss(w.value)
        gradients = tape.gradient(loss, [w.value])
        optimizer.apply_gradients(zip(gradients, [w]))
        weights.append(np.array(w.numpy()))
    return rates, weights


def _compare(
    expected: tuple[list[float], list[np.ndarray]],
    actual: tuple[list[float], list[np.ndarray]],
) -> None:
    for step, (e, a) in enumerate(zip(expected[0], actual[0])):
        assert a == pytest.approx(
            e, rel=1e-5, abs=1e-9
        ), f"learning rate at step {step}"
    for step, (e, a) in enumerate(zip(expected[1], actual[1])):
        np.testing.assert_allclose(
            a, e, rtol=2e-5, atol=2e-6, err_msg=f"weights after step {step + 1}"
        )


@pytest.mark.parametrize("name", sorted(TF1_OPTIMIZERS))
@pytest.mark.parametrize("decayed", [False, True], ids=["constant", "decayed"])
def test_optimizer_matches_tf1(scripts: Scripts, name: str, decayed: bool) -> None:
    args = dict(TF1_OPTIMIZERS[name][0])
    decay = DECAYS[0] if decayed else None
    module = scripts.load(config(optimizer={name: {**args, **(decay or {})}}))
    _compare(tf1_run(name, args, decay), keras_run(module.build_optimizer()))


def test_every_optimizer_is_compared() -> None:
    from plxgen.schema import registry

    assert set(TF1_OPTIMIZERS) == set(registry.OPTIMIZERS)


@pytest.mark.parametrize(
    "decay", DECAYS, ids=[f"{d['decay_type']}-{i}" for i, d in enumerate(DECAYS)]
)
def test_decay_matches_tf1(scripts: Scripts, decay: dict[str, Any]) -> None:
    args = {"learning_rate": 0.05}
    module = scripts.load(config(optimizer={"SGD": {**args, **decay}}))
    _compare(tf1_run("SGD", args, decay), keras_run(module.build_optimizer()))


def test_every_decay_is_compared() -> None:
    from plxgen.schema import registry

    assert {d["decay_type"] for d in DECAYS} == set(registry.DECAYS)


def test_decays_use_keras_schedules_where_they_are_exact(scripts: Scripts) -> None:
    """Keras' own schedule where it computes the 2017 values; the script's own elsewhere."""
    import keras

    schedules = keras.optimizers.schedules
    expected = [
        schedules.ExponentialDecay,  # with the floor: a subclass keeping it
        schedules.ExponentialDecay,
        schedules.ExponentialDecay,  # min_learning_rate 0: Keras' own
        schedules.ExponentialDecay,
        None,  # start_decay_at
        schedules.InverseTimeDecay,
        None,  # stop_decay_at
        schedules.InverseTimeDecay,
        None,  # natural_exp_decay: no Keras schedule
        None,
        schedules.PolynomialDecay,  # end_learning_rate above the floor: Keras' own
        schedules.PolynomialDecay,
        None,
        schedules.PiecewiseConstantDecay,
        schedules.PiecewiseConstantDecay,
    ]
    for decay, keras_class in zip(DECAYS, expected):
        module = scripts.load(
            config(optimizer={"SGD": {"learning_rate": 0.05, **decay}})
        )
        schedule = module.build_optimizer()._learning_rate  # the schedule itself
        if keras_class is None:
            assert type(schedule).__name__ == "LearningRateDecay", decay
        else:
            assert isinstance(schedule, keras_class), decay
        # The schedule saves and loads as Keras saves it.
        again = type(schedule).from_config(schedule.get_config())
        assert float(again(17)) == float(schedule(17))
    plain = scripts.load(
        config(optimizer={"SGD": {"learning_rate": 0.05, **DECAYS[2]}})
    )
    assert type(plain.build_optimizer()._learning_rate) is schedules.ExponentialDecay


def test_gradient_clipping_matches_tf1(scripts: Scripts) -> None:
    """clip_gradients clips the global norm, as tf.contrib's optimize_loss did."""
    args = dict(TF1_OPTIMIZERS["SGD"][0])
    module = scripts.load(config(clip_gradients=0.5, optimizer={"SGD": args}))
    _compare(tf1_run("SGD", args, None, clip=0.5), keras_run(module.build_optimizer()))
