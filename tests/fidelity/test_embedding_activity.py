"""2017's Embedding `activity_regularizer`: the penalty of the embedded vectors,
which Keras 3's Embedding takes as every layer does (its signature omits it), and
computes as it computes every layer's: per example, averaged over the batch."""

from __future__ import annotations

import numpy as np
import pytest

from tests.fidelity.conftest import Scripts, config

tf = pytest.importorskip("tensorflow")


def test_embedding_activity_regularizer_adds_its_penalty(scripts: Scripts) -> None:
    embedding = {
        "input_dim": 10,
        "output_dim": 4,
        "activity_regularizer": {"L2": {"l": 0.01}},
    }
    graph = {
        "input_layers": "x",
        "layers": [{"Embedding": embedding}, {"Flatten": None}, {"Dense": {"units": 1}}],
    }
    module = scripts.load(config(graph=graph))
    tokens = tf.constant([[1, 2, 3], [4, 5, 0]])
    model = module.build_model({"x": tokens})
    model({"x": tokens})
    layer = model.get_layer(index=1)  # the Embedding, after the input
    vectors = layer.embeddings.numpy()[tokens.numpy()]
    (penalty,) = model.losses
    expected = 0.01 * float(np.sum(vectors**2)) / len(vectors)
    assert float(penalty) == pytest.approx(expected, rel=1e-5)
    # The same penalty as a Dense layer's activity_regularizer of those values.
    dense = tf.keras.layers.Activation("linear", activity_regularizer="l2")
    dense(tf.constant(vectors))
    assert float(dense.losses[0]) == pytest.approx(expected, rel=1e-5)
