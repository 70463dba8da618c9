"""2017's output_layer (and the `values` of Mean): a loss or metric of a graph with
several outputs compares the one output it names, as the 2017 file said."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from tests.fidelity.conftest import Scripts, config

tf = pytest.importorskip("tensorflow")
v1 = tf.compat.v1

_rs = np.random.RandomState(3)
TARGETS = _rs.randn(3, 6, 1).astype("float32")  # 3 batches of 6 examples
FIRST = _rs.randn(3, 6, 1).astype("float32")
SECOND = _rs.randn(3, 6, 1).astype("float32")

TWO_OUTPUTS = {
    "input_layers": "x",
    "output_layers": ["first", "second"],
    "layers": [
        {"Dense": {"name": "first", "units": 1}},
        {"Dense": {"name": "second", "units": 1, "inbound_nodes": ["x"]}},
    ],
}


def _tf1(make: Any) -> float:
    graph = tf.Graph()
    with graph.as_default():
        value, update = make()
        with v1.Session(graph=graph) as session:
            session.run(v1.local_variables_initializer())
            session.run(update)
            return float(session.run(value))


def test_loss_compares_the_output_it_names(scripts: Scripts) -> None:
    module = scripts.load(
        config(
            graph=TWO_OUTPUTS,
            loss={"MeanSquaredError": {"output_layer": "second", "weights": 2.0}},
        )
    )
    trainer = SimpleNamespace(loss_fn=module.build_loss())
    outputs = [tf.constant(FIRST[0]), tf.constant(SECOND[0])]
    per_example = module.Trainer.per_example_loss(trainer, TARGETS[0], outputs)
    expected = 2.0 * float(np.mean(np.square(SECOND[0] - TARGETS[0])))
    assert float(tf.reduce_mean(per_example)) == pytest.approx(expected, rel=1e-6)


def test_metrics_read_the_output_they_name(scripts: Scripts) -> None:
    module = scripts.load(
        config(
            graph=TWO_OUTPUTS,
            metrics=[
                {"MeanAbsoluteError": {"output_layer": ["first", 0, 0]}},
                {"Mean": {"values": "second"}},
            ],
        )
    )
    mae, mean = module.build_metrics()
    assert (mae.name, mean.name) == ("first_mean_absolute_error", "second_mean")
    for y, a, b in zip(TARGETS, FIRST, SECOND):
        for metric in (mae, mean):
            metric.update_state(tf.constant(y), [tf.constant(a), tf.constant(b)])
    y, a, b = (np.concatenate(x) for x in (TARGETS, FIRST, SECOND))
    assert float(mae.result()) == pytest.approx(
        _tf1(lambda: v1.metrics.mean_absolute_error(y, a)), rel=1e-5
    )
    assert float(mean.result()) == pytest.approx(
        _tf1(lambda: v1.metrics.mean(b)), rel=1e-5
    )
