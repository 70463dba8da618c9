"""Every loss, metric and initializer of a generated script against tf.compat.v1
(or, for the 2017 tool's own losses, its formula), on fixed data.

A loss is the script's per-example loss averaged over the batch, as its
training step averages it; a metric is streamed over three batches.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.fidelity.conftest import Scripts, config, tf1_stream

tf = pytest.importorskip("tensorflow")
v1 = tf.compat.v1

_rs = np.random.RandomState(1)
VALUES = _rs.randn(3, 6, 4).astype("float32")  # 3 batches of 6 examples
TARGETS = _rs.randn(3, 6, 4).astype("float32")
PROBABILITIES = _rs.uniform(0.05, 0.95, (3, 6, 4)).astype("float32")
ZERO_ONE = (_rs.uniform(size=(3, 6, 4)) > 0.5).astype("float32")
LOGITS = (_rs.randn(3, 6, 3) * 2).astype("float32")
ONE_HOT = np.eye(3, dtype="float32")[_rs.randint(0, 3, (3, 6))]
SCORES = _rs.uniform(size=(3, 6, 1)).astype("float32")
BINARY = (_rs.uniform(size=(3, 6, 1)) > 0.4).astype("float32")


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _run(tensor: Any) -> float:
    """Evaluate a TF1 graph-mode expression built by a function of no arguments."""
    graph = tf.Graph()
    with graph.as_default():
        value = tensor()
        with v1.Session(graph=graph) as session:
            return float(session.run(value))


def _huber_2017(labels: np.ndarray, predictions: np.ndarray, clip: float) -> float:
    """polyaxon 2017 losses.huber_loss: squared error, 0.5 * d**2 / d - 0.5 around clip."""
    delta = np.abs(predictions - labels)
    losses = np.square(delta)
    if clip > 0.0:
        losses = np.where(delta < clip, 0.5 * losses, delta - 0.5)
    return float(losses.mean())


def _clipped_delta_2017(
    labels: np.ndarray, predictions: np.ndarray, lo: float, hi: float
) -> float:
    """polyaxon 2017 losses.clipped_delta_loss: the clipped prediction - label, squared."""
    return float(np.square(np.clip(predictions - labels, lo, hi)).mean())


# (loss, its arguments, the kind of model, labels, outputs, the 2017 value)
LOSSES: list[tuple[str, dict[str, Any], str, np.ndarray, np.ndarray, Any]] = [
    ("AbsoluteDifference", {}, "regressor", TARGETS[0], VALUES[0],
     lambda y, p: _run(lambda: v1.losses.absolute_difference(y, p))),
    ("MeanSquaredError", {}, "regressor", TARGETS[0], VALUES[0],
     lambda y, p: _run(lambda: v1.losses.mean_squared_error(y, p))),
    ("LogLoss", {}, "binary", ZERO_ONE[0], PROBABILITIES[0],
     lambda y, p: _run(lambda: v1.losses.log_loss(y, p, epsilon=1e-7))),
    ("LogLoss", {"epsilon": 0.01}, "binary", ZERO_ONE[0], PROBABILITIES[0],
     lambda y, p: _run(lambda: v1.losses.log_loss(y, p, epsilon=0.01))),
    ("HuberLoss", {"clip": 1.0}, "regressor", TARGETS[0], VALUES[0] * 3,
     lambda y, p: _run(lambda: v1.losses.huber_loss(y, p, delta=1.0))),
    ("HuberLoss", {"clip": 2.0}, "regressor", TARGETS[0], VALUES[0] * 3,
     lambda y, p: _huber_2017(y, p, 2.0)),
    ("HuberLoss", {"clip": 0.5}, "regressor", TARGETS[0], VALUES[0] * 3,
     lambda y, p: _huber_2017(y, p, 0.5)),
    ("ClippedDeltaLoss", {"clip_value_min": -0.5, "clip_value_max": 1.5}, "regressor",
     TARGETS[0], VALUES[0] * 2, lambda y, p: _clipped_delta_2017(y, p, -0.5, 1.5)),
    ("SoftmaxCrossEntropy", {"label_smoothing": 0.1}, "classifier", ONE_HOT[0], LOGITS[0],
     lambda y, p: _run(lambda: v1.losses.softmax_cross_entropy(y, p, label_smoothing=0.1))),
    ("SoftmaxCrossEntropy", {}, "sparse", ONE_HOT[0].argmax(-1), LOGITS[0],
     lambda y, p: _run(lambda: v1.losses.sparse_softmax_cross_entropy(y, p))),
    ("SigmoidCrossEntropy", {"label_smoothing": 0.2}, "binary", ZERO_ONE[0], VALUES[0],
     lambda y, p: _run(lambda: v1.losses.sigmoid_cross_entropy(y, p, label_smoothing=0.2))),
    ("HingeLoss", {}, "binary", ZERO_ONE[0], VALUES[0],
     lambda y, p: _run(lambda: v1.losses.hinge_loss(y, p))),
    ("CosineDistance", {"dim": -1}, "regressor", _unit(TARGETS[0]), _unit(VALUES[0]) * 1.5,
     lambda y, p: _run(lambda: v1.losses.cosine_distance(y, p, axis=-1))),
    ("PoissonLoss", {}, "regressor", np.abs(TARGETS[0]), PROBABILITIES[0] * 3,
     lambda y, p: float(np.mean(p - y * np.log(p + 1e-7)))),
    ("KullbackLeiberDivergence", {}, "regressor", _unit(PROBABILITIES[0]) ** 2,
     _unit(PROBABILITIES[1]) ** 2, lambda y, p: float(np.mean(np.sum(y * np.log(y / p), -1)))),
]  # fmt: skip


def test_every_loss_is_compared() -> None:
    from plxgen.schema import registry

    assert {case[0] for case in LOSSES} == set(registry.LOSSES)


@pytest.mark.parametrize(
    "case", LOSSES, ids=[f"{c[0]}-{i}" for i, c in enumerate(LOSSES)]
)
def test_loss_matches_2017(scripts: Scripts, case: tuple[Any, ...]) -> None:
    name, args, kind, labels, outputs, reference = case
    module = scripts.load(config(kind, loss={name: args or None}))
    per_example = module.build_loss()(tf.constant(labels), tf.constant(outputs))
    actual = float(tf.reduce_mean(per_example))
    assert actual == pytest.approx(reference(labels, outputs), rel=1e-5, abs=1e-6)


def test_loss_weights_multiply_the_loss(scripts: Scripts) -> None:
    module = scripts.load(config(loss={"MeanSquaredError": {"weights": 2.5}}))
    assert module.LOSS_WEIGHT == 2.5


# (metric, its arguments, kind, labels, outputs (as the metric sees them), the TF1 metric)
METRICS: list[tuple[str, dict[str, Any] | None, str, np.ndarray, np.ndarray, Any]] = [
    ("MeanAbsoluteError", None, "regressor", TARGETS, VALUES, v1.metrics.mean_absolute_error),
    ("MeanSquaredError", None, "regressor", TARGETS, VALUES, v1.metrics.mean_squared_error),
    ("RootMeanSquaredError", None, "regressor", TARGETS, VALUES, v1.metrics.root_mean_squared_error),
    ("MeanRelativeError", {"normalizer": 4.0}, "regressor", TARGETS, VALUES,
     lambda y, p: v1.metrics.mean_relative_error(y, p, tf.fill(tf.shape(y), 4.0))),
    ("MeanCosineDistance", {"dim": -1}, "regressor", _unit(TARGETS), _unit(VALUES),
     lambda y, p: v1.metrics.mean_cosine_distance(y, p, dim=1)),
    ("PercentageLess", {"threshold": 0.3}, "regressor", TARGETS, VALUES,
     lambda y, p: v1.metrics.percentage_below(p, 0.3)),
    ("Mean", None, "regressor", TARGETS, VALUES, lambda y, p: v1.metrics.mean(p)),
    ("Accuracy", None, "classifier", ONE_HOT, LOGITS,
     lambda y, p: v1.metrics.accuracy(tf.argmax(y, -1), tf.argmax(p, -1))),
    ("Accuracy", None, "binary", BINARY, SCORES,
     lambda y, p: v1.metrics.accuracy(y, tf.cast(p > 0.5, "float32"))),
    ("TruePositives", None, "binary", BINARY, SCORES,
     lambda y, p: v1.metrics.true_positives(y, p > 0.5)),
    ("TrueNegatives", None, "binary", BINARY, SCORES,
     lambda y, p: v1.metrics.true_negatives(y, p > 0.5)),
    ("FalsePositives", None, "binary", BINARY, SCORES,
     lambda y, p: v1.metrics.false_positives(y, p > 0.5)),
    ("FalseNegatives", None, "binary", BINARY, SCORES,
     lambda y, p: v1.metrics.false_negatives(y, p > 0.5)),
    ("Precision", None, "binary", BINARY, SCORES,
     lambda y, p: v1.metrics.precision(y, p > 0.5)),
    ("Recall", None, "binary", BINARY, SCORES, lambda y, p: v1.metrics.recall(y, p > 0.5)),
    ("PrecisionAtThresholds", {"thresholds": 0.3}, "binary", BINARY, SCORES,
     lambda y, p: v1.metrics.precision_at_thresholds(tf.cast(y, "bool"), p, [0.3])),
    ("RecallAtThresholds", {"thresholds": 0.7}, "binary", BINARY, SCORES,
     lambda y, p: v1.metrics.recall_at_thresholds(tf.cast(y, "bool"), p, [0.7])),
    ("AUC", None, "binary", BINARY, SCORES,
     lambda y, p: v1.metrics.auc(y, p, num_thresholds=200, summation_method="careful_interpolation")),
    ("SpecificityAtSensitivity", {"sensitivity": 0.6}, "binary", BINARY, SCORES,
     lambda y, p: v1.metrics.specificity_at_sensitivity(y, p, 0.6)),
    ("SparseRecallAtK", {"k": 2}, "sparse", ONE_HOT.argmax(-1)[..., None], LOGITS,
     lambda y, p: v1.metrics.recall_at_k(tf.cast(y, "int64"), p, 2)),
    ("SparsePrecisionAtK", {"k": 2}, "sparse", ONE_HOT.argmax(-1)[..., None], LOGITS,
     lambda y, p: v1.metrics.precision_at_k(tf.cast(y, "int64"), p, 2)),
    ("MeanIOU", None, "sparse", ONE_HOT.argmax(-1)[..., None], LOGITS,
     lambda y, p: v1.metrics.mean_iou(tf.reshape(y, [-1]), tf.argmax(p, -1), 3)),
]  # fmt: skip

# 2017 metrics of tf.contrib, which TF 2 no longer ships: compared with their formula.
FORMULAS: dict[str, Any] = {
    "Covariance": lambda y, p: float(np.cov(p.ravel(), y.ravel(), bias=True)[0, 1]),
    "PearsonCorrelation": lambda y, p: float(np.corrcoef(p.ravel(), y.ravel())[0, 1]),
}


# Where the generated script deliberately keeps Keras' metric (docs/compatibility.md).
DIFFERENT = {
    # TF1 picks the threshold whose specificity is closest to the target; Keras the
    # best sensitivity among those whose specificity reaches it.
    "SensitivityAtSpecificity": (
        {"specificity": 0.6},
        0.3571428656578064,
        0.7857142686843872,
    ),
}


def test_every_metric_is_compared() -> None:
    from plxgen.schema import registry

    compared = {case[0] for case in METRICS} | set(FORMULAS) | set(DIFFERENT)
    assert compared == set(registry.METRICS)


@pytest.mark.parametrize("name", sorted(DIFFERENT))
def test_metric_that_differs_from_tf1_is_listed(scripts: Scripts, name: str) -> None:
    """The difference is the one docs/compatibility.md lists, and stays so."""
    from tests.conftest import ROOT

    args, keras_value, tf1_value = DIFFERENT[name]
    module = scripts.load(config("binary", metrics=[{name: args}]))
    (metric,) = module.build_metrics()
    assert _stream(metric, BINARY, SCORES) == pytest.approx(keras_value, rel=1e-6)
    expected = tf1_stream(
        lambda y, p: v1.metrics.sensitivity_at_specificity(y, p, args["specificity"]),
        BINARY,
        SCORES,
    )
    assert expected == pytest.approx(tf1_value, rel=1e-6)
    assert name in (ROOT / "docs" / "compatibility.md").read_text()


def _stream(metric: Any, labels: np.ndarray, outputs: np.ndarray) -> float:
    for y, p in zip(labels, outputs):
        metric.update_state(tf.constant(y), tf.constant(p))
    return float(metric.result())


@pytest.mark.parametrize("case", METRICS, ids=[f"{c[0]}-{c[2]}" for c in METRICS])
def test_metric_matches_tf1(scripts: Scripts, case: tuple[Any, ...]) -> None:
    name, args, kind, labels, outputs, make = case
    loss = {"loss": "SoftmaxCrossEntropy"} if kind == "sparse" else {}
    module = scripts.load(
        config(kind, metrics=[{name: args} if args else name], **loss)
    )
    (metric,) = module.build_metrics()
    expected = tf1_stream(make, labels, outputs)
    assert _stream(metric, labels, outputs) == pytest.approx(
        expected, rel=1e-5, abs=1e-6
    )


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_comoment_metric_matches_its_formula(scripts: Scripts, name: str) -> None:
    module = scripts.load(config(metrics=[name]))
    (metric,) = module.build_metrics()
    expected = FORMULAS[name](TARGETS, VALUES)
    assert _stream(metric, TARGETS, VALUES) == pytest.approx(expected, rel=1e-4)


# Initializers named without arguments: TF1's defaults (tf.*_initializer()).
INITIALIZERS = {
    "Uniform": lambda: v1.random_uniform_initializer(seed=1),
    "Normal": lambda: v1.random_normal_initializer(seed=1),
    "TruncatedNormal": lambda: v1.truncated_normal_initializer(seed=1),
}


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_initializer_defaults_match_tf1(scripts: Scripts, name: str) -> None:
    shape = (20000, 1)
    layer = {"Dense": {"units": 1, "kernel_initializer": {name: {"seed": 7}}}}
    module = scripts.load(config(graph={"input_layers": "x", "layers": [layer]}))
    model = module.build_model({"x": tf.zeros((1, shape[0]))})
    ours = np.asarray(model.layers[-1].kernel.numpy()).ravel()
    graph = tf.Graph()
    with graph.as_default():
        value = INITIALIZERS[name]()(shape)
        with v1.Session(graph=graph) as session:
            theirs = session.run(value).ravel()
    assert ours.mean() == pytest.approx(theirs.mean(), abs=0.03)
    assert ours.std() == pytest.approx(theirs.std(), rel=0.03)
    if name != "Normal":  # bounded: [0, 1), or two standard deviations
        assert ours.min() == pytest.approx(theirs.min(), abs=0.01)
        assert ours.max() == pytest.approx(theirs.max(), abs=0.01)


def test_latent_bridge_kl_is_summed_as_2017(scripts: Scripts) -> None:
    """LatentBridge's KL divergence: summed over the batch and the latent code
    (polyaxon 2017's latent_loss), added to the mean reconstruction loss."""
    data = config()
    model = data["model"].pop("regressor")
    model.pop("graph")
    model.update(
        encoder={"input_layers": "x", "layers": [{"Dense": {"units": 4}}]},
        decoder={"layers": [{"Dense": {"units": 4}}]},
        bridge={"LatentBridge": {"latent_dim": 2}},
        loss="MeanSquaredError",
    )
    data["model"]["generator"] = model
    module = scripts.load(data)
    bridge = module.LatentBridge(latent_dim=2, mean=0.0, stddev=1.0)
    inputs = tf.constant(VALUES[0])
    bridge(inputs, training=True)
    mean = bridge.z_mean(inputs).numpy()
    log_var = bridge.z_log_var(inputs).numpy()
    expected = -0.5 * np.sum(1 + log_var - np.square(mean) - np.exp(log_var))
    (kl,) = bridge.losses
    assert float(kl) == pytest.approx(float(expected), rel=1e-5)
