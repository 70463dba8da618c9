"""clip_gradients with clip_embed_gradients: the global norm is clipped first,
then each embedding's gradient, as the 2017 tool's optimize step did; one
training step of the generated Trainer against the same step in a TF1 graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.fidelity.conftest import Scripts, config

tf = pytest.importorskip("tensorflow")
v1 = tf.compat.v1

IDS = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9], [0, 0, 0]], dtype="int64")
TARGETS = np.array([[3.0], [-2.0], [5.0], [1.0]], dtype="float32")


def test_global_clip_comes_before_the_embedding_clip(
    scripts: Scripts, tmp_path: Path
) -> None:
    data = config(
        graph={
            "input_layers": "x",
            "layers": [
                {"Embedding": {"input_dim": 10, "output_dim": 4}},
                {"Flatten": None},
                {"Dense": {"units": 1}},
            ],
        },
        clip_gradients=0.5,
        clip_embed_gradients=0.1,
        optimizer={"SGD": {"learning_rate": 1.0}},
        loss="MeanSquaredError",
    )
    module = scripts.load(data)
    features = {"x": tf.constant(IDS)}
    trainer = module.Trainer(str(tmp_path), features, seed=0, latest=None)
    start = [np.array(v.numpy()) for v in trainer.model.trainable_variables]
    trainer.train_step(features, tf.constant(TARGETS))
    ours = [np.array(v.numpy()) for v in trainer.model.trainable_variables]

    graph = tf.Graph()
    with graph.as_default():
        embedding, kernel, bias = (v1.Variable(w) for w in start)
        rows = tf.reshape(tf.gather(embedding, IDS), [4, 12])
        loss = tf.reduce_mean(tf.square(tf.matmul(rows, kernel) + bias - TARGETS))
        gradients = tf.gradients(loss, [embedding, kernel, bias])
        gradients, _ = tf.clip_by_global_norm(gradients, 0.5)
        first = gradients[0]  # no id repeats but 0: its rows are summed first
        values = tf.math.unsorted_segment_sum(first.values, first.indices, 10)
        gradients[0] = tf.clip_by_norm(values, 0.1)
        train = v1.train.GradientDescentOptimizer(1.0).apply_gradients(
            zip(gradients, [embedding, kernel, bias])
        )
        with v1.Session(graph=graph) as session:
            session.run(v1.global_variables_initializer())
            session.run(train)
            theirs = session.run([embedding, kernel, bias])
    for a, e in zip(ours, theirs):
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)
