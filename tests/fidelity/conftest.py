"""Compile tiny configs and import their scripts, for the comparisons with tf.compat.v1.

Each comparison goes through the generated code: the config is compiled by
plxgen, the script imported as a module, and its build_optimizer, build_loss,
build_metrics or build_model called, so that a mapping that drifts fails here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from plxgen.compiler import compile_config
from tests.conftest import import_script


def tf1_stream(make: Any, labels: Any, outputs: Any) -> float:
    """A tf.compat.v1 streaming metric `make(labels, predictions) -> (value, update)`
    fed the batches of `labels` and `outputs` one by one: its final value."""
    import numpy as np
    import tensorflow as tf

    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        y = v1.placeholder(tf.as_dtype(labels.dtype), labels.shape[1:])
        p = v1.placeholder("float32", outputs.shape[1:])
        value, update = make(y, p)
        with v1.Session(graph=graph) as session:
            session.run(v1.local_variables_initializer())
            for yb, pb in zip(labels, outputs):
                session.run(update, {y: yb, p: pb})
            return float(np.ravel(session.run(value))[0])


def config(kind: str = "regressor", **model: Any) -> dict[str, Any]:
    """A config of one Dense layer on a feature `x`; `model` replaces model fields.

    kind: regressor (one output), classifier (3 one-hot classes), sparse
    (3 classes by index) or binary (one 0/1 label).
    """
    units = 3 if kind in ("classifier", "sparse") else 1
    spec: dict[str, Any] = {
        "clip_gradients": 0,
        "graph": {"input_layers": "x", "layers": [{"Dense": {"units": units}}]},
    }
    if kind == "classifier":
        spec.update(one_hot_encode=True, n_classes=3)
    elif kind == "sparse":
        spec.update(n_classes=3)
    spec.update(model)
    return {
        "version": 1,
        "project": {"name": "fidelity"},
        "model": {"regressor" if kind == "regressor" else "classifier": spec},
        "train": {
            "train_steps": 5,
            "data_pipeline": {
                "NumpyPipeline": {"batch_size": 4, "data_files": ["d.npz"]}
            },
        },
    }


class Scripts:
    """Compiles configs into one folder and imports each script once."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.cache: dict[str, Any] = {}

    def load(self, data: dict[str, Any]) -> Any:
        """The imported script of a config."""
        text = json.dumps(data, sort_keys=True)
        if text not in self.cache:
            name = f"fidelity_{len(self.cache)}"
            path = self.folder / f"{name}.yaml"
            path.write_text(yaml.safe_dump(data))
            script = self.folder / f"{name}.py"
            script.write_text(compile_config(path, script, []))
            self.cache[text] = import_script(script)
        return self.cache[text]


@pytest.fixture(scope="session")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> Scripts:
    return Scripts(tmp_path_factory.mktemp("fidelity"))
