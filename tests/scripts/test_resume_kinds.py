"""Exact resume for every shuffling pipeline kind, unseeded: weight for weight.

test_promises kills an image-pipeline run (SIGKILL and SIGTERM) and resumes
it; the kill itself is the same for every kind. What differs by kind is how a
resumed run finds its place in the data: the kept seed's shuffle (and its
bucketing, caching, dynamic padding), then `skip_batches`. Here each kind's
bundled example, unseeded, trains to a step in its first epoch, is resumed
across an epoch boundary, and is compared with an uninterrupted run of the
seed it drew. The runs are the scripts' own `main`, called in this process
(one TensorFlow import for the three).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from plxgen.compiler import compile_config
from tests.conftest import ROOT, import_script, plxgen
from tests.pipeline_data import make_pipeline_data

tf = pytest.importorskip("tensorflow")

# Each a shuffling train pipeline of another kind (batch 32: an epoch is 10 to
# 44 steps), with caching (csv), bucketing (sequence) and dynamic padding.
KINDS = {
    "CsvPipeline": "diabetes_csv",
    "NumpyPipeline": "npz_digits",
    "TFRecordTabularPipeline": "diabetes_tabular",
    "TFRecordSequencePipeline": "sequence_classifier",
    "ParallelTextPipeline": "parallel_text",
    "TFRecordSourceSequencePipeline": "source_sequences",
    "ImageCaptioningPipeline": "captioned_colours",
}
STOP, END = 7, 50


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("resume_kinds")
    make_pipeline_data(root / "data")
    (root / "generated_examples").mkdir()
    return root


def unseeded(root: Path, name: str) -> object:
    """The bundled example NAME without its seed, compiled beside the data and imported."""
    config = root / "generated_examples" / f"{name}.yaml"
    config.write_text((ROOT / "generated_examples" / f"{name}.yaml").read_text())
    script = config.with_suffix(".py")
    script.write_text(
        compile_config(config, script, ["environment.run_config.tf_random_seed=null"])
    )
    return import_script(script)


def weights(checkpoint: Path) -> dict[str, np.ndarray]:
    """Every variable of a checkpoint but its save counter.

    (Its object graph names the optimizer, which Keras numbers within a process.)
    """
    reader = tf.train.load_checkpoint(str(checkpoint))
    return {
        key: reader.get_tensor(key)
        for key in reader.get_variable_to_shape_map()
        if key.endswith("/.ATTRIBUTES/VARIABLE_VALUE") and "save_counter" not in key
    }


# By default three kinds of three mechanisms (a cached text file, in-memory
# arrays, bucketed records); `-m slow` runs the other four too.
DEFAULT = {"CsvPipeline", "NumpyPipeline", "TFRecordSequencePipeline"}


@pytest.mark.parametrize(
    "kind",
    [kind if kind in DEFAULT else pytest.param(kind, marks=pytest.mark.slow) for kind in KINDS],
    ids=list(KINDS),
)
def test_an_unseeded_run_resumed_ends_as_the_uninterrupted_run(data: Path, kind: str) -> None:
    script = unseeded(data, KINDS[kind])
    train = ["--schedule", "train", "--train-steps"]
    resumed, whole = data / f"{kind}-resumed", data / f"{kind}-whole"
    assert script.main([*train, str(STOP), "--model-dir", str(resumed)]) == 0
    assert script.main([*train, str(END), "--model-dir", str(resumed)]) == 0
    report = json.loads((resumed / "metrics.json").read_text())
    assert (report["resumed_from"], report["global_step"]) == (STOP, END)

    seed = str(report["seed"])
    assert script.main([*train, str(END), "--seed", seed, "--model-dir", str(whole)]) == 0
    assert json.loads((whole / "metrics.json").read_text())["seed"] == report["seed"]
    a = weights(resumed / "checkpoints" / f"ckpt-{END}")
    b = weights(whole / "checkpoints" / f"ckpt-{END}")
    assert a.keys() == b.keys() and len(a) > 4
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
