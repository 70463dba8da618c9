"""2017's metric `weights`: a scalar weight of every example, as tf.metrics took it.

A count is multiplied by it; a mean or a ratio is unchanged by a weight above 0
(and 0 with a weight of 0): the script's metric streams what TF1's did.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.fidelity.conftest import Scripts, config, tf1_stream

tf = pytest.importorskip("tensorflow")
v1 = tf.compat.v1

_rs = np.random.RandomState(5)
SCORES = _rs.uniform(size=(3, 6, 1)).astype("float32")  # 3 batches of 6 examples
BINARY = (_rs.uniform(size=(3, 6, 1)) > 0.4).astype("float32")
TARGETS = _rs.randn(3, 6, 1).astype("float32")
VALUES = _rs.randn(3, 6, 1).astype("float32")


CASES = [
    ("TruePositives", 2.5, "binary", BINARY, SCORES,
     lambda w: lambda y, p: v1.metrics.true_positives(y, p > 0.5, weights=w)),
    ("Accuracy", 0.5, "binary", BINARY, SCORES,
     lambda w: lambda y, p: v1.metrics.accuracy(y, tf.cast(p > 0.5, "float32"), weights=w)),
    ("MeanAbsoluteError", 0.0, "regressor", TARGETS, VALUES,
     lambda w: lambda y, p: v1.metrics.mean_absolute_error(y, p, weights=w)),
    ("Mean", 3.0, "regressor", TARGETS, VALUES,
     lambda w: lambda y, p: v1.metrics.mean(p, weights=w)),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_weighted_metric_matches_tf1(scripts: Scripts, case: tuple[Any, ...]) -> None:
    name, weight, kind, labels, outputs, make = case
    module = scripts.load(config(kind, metrics=[{name: {"weights": weight}}]))
    (metric,) = module.build_metrics()
    for y, p in zip(labels, outputs):
        metric.update_state(tf.constant(y), tf.constant(p))
    expected = tf1_stream(make(weight), labels, outputs)
    assert float(metric.result()) == pytest.approx(expected, rel=1e-5, abs=1e-6)
    if name == "TruePositives":  # a weight that changes the count is applied
        assert float(metric.result()) != pytest.approx(
            tf1_stream(make(1.0), labels, outputs)
        )


def test_a_weight_of_1_writes_no_wrapper(scripts: Scripts) -> None:
    module = scripts.load(config(metrics=[{"Mean": {"weights": 1}}]))
    (metric,) = module.build_metrics()
    assert not hasattr(module, "WeightedMetric") and metric.name == "mean"


def test_a_weight_of_0_zeroes_the_comoments(scripts: Scripts) -> None:
    module = scripts.load(config(metrics=[{"Covariance": {"weights": 0}}]))
    (metric,) = module.build_metrics()
    metric.update_state(tf.constant(TARGETS[0]), tf.constant(VALUES[0]))
    assert float(metric.result()) == 0.0
