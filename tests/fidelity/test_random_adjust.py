"""2017's random AdjustContrast, AdjustHue and AdjustSaturation (`is_random`):
tf.image.random_contrast / random_hue / random_saturation drew a factor from
[contrast_factor, contrast_factor_max), [-delta, delta) and [saturation_factor,
saturation_factor_max); the script draws one per image, seeded like the other
random image ops, and applies tf.image's own adjust_* with it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.fidelity.conftest import Scripts

tf = pytest.importorskip("tensorflow")

IMAGES = np.random.RandomState(7).uniform(size=(6, 5, 5, 3)).astype("float32")
SEED = tf.constant([3, 4], tf.int64)


def config(*ops: dict[str, Any]) -> dict[str, Any]:
    """A classifier of images whose feature processors are `ops`."""
    return {
        "version": 1,
        "project": {"name": "adjust"},
        "model": {
            "classifier": {
                "n_classes": 3,
                "loss": "SoftmaxCrossEntropy",
                "graph": {
                    "input_layers": "image",
                    "layers": [{"Flatten": None}, {"Dense": {"units": 3}}],
                },
            }
        },
        "train": {
            "train_steps": 2,
            "data_pipeline": {
                "TFRecordImagePipeline": {
                    "batch_size": 6,
                    "data_files": ["a.tfrecord"],
                    "meta_data_file": "m.json",
                    "feature_processors": {"image": {"layers": list(ops)}},
                }
            },
        },
    }


def test_random_contrast_draws_a_factor_per_image_in_its_range(scripts: Scripts) -> None:
    op = {"contrast_factor": 0.5, "contrast_factor_max": 1.5, "is_random": True}
    module = scripts.load(config({"AdjustContrast": op}))
    out = module.process_image(tf.constant(IMAGES), SEED).numpy()
    mean = IMAGES.mean(axis=(1, 2), keepdims=True)
    factors = ((out - mean) / (IMAGES - mean)).reshape(len(IMAGES), -1)
    # One factor per image (tf.image.adjust_contrast's), each in [0.5, 1.5), not all equal.
    assert np.allclose(factors, factors[:, :1], rtol=1e-3, atol=1e-3)
    assert ((factors[:, 0] >= 0.5) & (factors[:, 0] < 1.5)).all()
    assert np.ptp(factors[:, 0]) > 0.05
    again = module.process_image(tf.constant(IMAGES), SEED).numpy()
    assert np.array_equal(out, again)  # seeded: the same seed, the same images


@pytest.mark.parametrize(
    ("op", "adjust", "low", "high"),
    [
        ({"AdjustHue": {"delta": 0.2, "is_random": True, "seed": 5}}, "adjust_hue", -0.2, 0.2),
        ({"AdjustSaturation": {"saturation_factor": 0.5, "saturation_factor_max": 1.2,
                               "is_random": True}}, "adjust_saturation", 0.5, 1.2),
    ],
    ids=["hue", "saturation"],
)  # fmt: skip
def test_random_hue_and_saturation_apply_tf_image_per_image(
    scripts: Scripts, op: dict[str, Any], adjust: str, low: float, high: float
) -> None:
    module = scripts.load(config(op))
    out = module.process_image(tf.constant(IMAGES), SEED).numpy()
    fixed = getattr(tf.image, adjust)
    # Each image is tf.image's adjustment by some factor in the range: find it on a grid.
    grid = np.linspace(low, high, 401)
    for image, result in zip(IMAGES, out):
        errors = [np.abs(fixed(image, f).numpy() - result).max() for f in grid]
        assert min(errors) < 0.01
    assert not np.allclose(out, fixed(tf.constant(IMAGES), (low + high) / 2).numpy())
