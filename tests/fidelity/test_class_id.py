"""2017's class_id on SparsePrecisionAtK and SparseRecallAtK: tf.metrics'
precision_at_k / recall_at_k of one class, streamed over three batches."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.fidelity.conftest import Scripts, config, tf1_stream

tf = pytest.importorskip("tensorflow")
v1 = tf.compat.v1

_rs = np.random.RandomState(11)
LOGITS = (_rs.randn(3, 8, 3) * 2).astype("float32")  # 3 batches of 8 examples
CLASSES = _rs.randint(0, 3, (3, 8))
ONE_HOT = np.eye(3, dtype="float32")[CLASSES]
LABELS = CLASSES[:, :, None]  # as tf.metrics' *_at_k take them: one id per example


@pytest.mark.parametrize(
    ("name", "tf1"),
    [("SparsePrecisionAtK", v1.metrics.precision_at_k), ("SparseRecallAtK", v1.metrics.recall_at_k)],
)  # fmt: skip
@pytest.mark.parametrize("class_id", [0, 2])
def test_one_class_matches_tf1(scripts: Scripts, name: str, tf1: Any, class_id: int) -> None:
    module = scripts.load(
        config("classifier", metrics=[{name: {"k": 2, "class_id": class_id}}])
    )
    (metric,) = module.build_metrics()
    for y, p in zip(ONE_HOT, LOGITS):
        metric.update_state(tf.constant(y), tf.constant(p))
    expected = tf1_stream(lambda y, p: tf1(y, p, 2, class_id=class_id), LABELS, LOGITS)
    assert float(metric.result()) == pytest.approx(expected, rel=1e-6)
    every_class = tf1_stream(lambda y, p: tf1(y, p, 2), LABELS, LOGITS)
    assert expected != pytest.approx(every_class)  # the class changes the value
