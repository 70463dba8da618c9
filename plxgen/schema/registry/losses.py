"""Losses: the 2017 names of tf.losses, their arguments and 2017 defaults.

Each description names the Keras loss that lowering computes it with.
"""

from __future__ import annotations

from plxgen.schema.registry.common import Entry, integer, number

_WEIGHTS = number(1.0, "Multiplies the loss (2017 `weights`).")
_SMOOTHING = number(0.0, "Label smoothing in [0, 1].", minimum=0, maximum=1)

LOSSES: dict[str, Entry] = {
    "AbsoluteDifference": Entry(
        "Mean absolute error (keras.losses.MeanAbsoluteError).", {"weights": _WEIGHTS}
    ),
    "MeanSquaredError": Entry(
        "Mean squared error (keras.losses.MeanSquaredError).", {"weights": _WEIGHTS}
    ),
    "LogLoss": Entry(
        "Binary cross-entropy on probabilities (keras.losses.BinaryCrossentropy, from_logits=False).",
        {
            "weights": _WEIGHTS,
            "epsilon": {
                "const": 1e-07,
                "default": 1e-07,
                "description": "Probabilities are clipped to [epsilon, 1 - epsilon]; Keras fixes it at 1e-7.",
            },
        },
    ),
    "HuberLoss": Entry(
        "Huber loss (keras.losses.Huber).",
        {
            "weights": _WEIGHTS,
            "clip": number(
                1.0,
                "The delta where the loss turns from quadratic to linear. The 2017 default 0.0 made "
                "it a plain squared error; plxgen uses 1.0, as tf.losses.huber_loss did.",
                exclusiveMinimum=0,
            ),
        },
    ),
    "ClippedDeltaLoss": Entry(
        "Squared error of (label - prediction) clipped to [clip_value_min, clip_value_max].",
        {
            "weights": _WEIGHTS,
            "clip_value_min": number(-1.0, "Lower clip of the error."),
            "clip_value_max": number(1.0, "Upper clip of the error."),
        },
    ),
    "SoftmaxCrossEntropy": Entry(
        "Softmax cross-entropy on logits (keras.losses.CategoricalCrossentropy, or the sparse "
        "variant when labels are not one-hot encoded).",
        {"weights": _WEIGHTS, "label_smoothing": _SMOOTHING},
    ),
    "SigmoidCrossEntropy": Entry(
        "Sigmoid cross-entropy on logits (keras.losses.BinaryCrossentropy, from_logits=True).",
        {"weights": _WEIGHTS, "label_smoothing": _SMOOTHING},
    ),
    "HingeLoss": Entry(
        "Hinge loss on logits, labels in {0, 1} (keras.losses.Hinge).",
        {"weights": _WEIGHTS},
    ),
    "CosineDistance": Entry(
        "Cosine distance, 1 - cos(label, prediction) (keras.losses.CosineSimilarity + 1).",
        {
            "weights": _WEIGHTS,
            "dim": integer(-1, "The axis along which the cosine is taken."),
        },
    ),
    "PoissonLoss": Entry("Poisson loss (keras.losses.Poisson).", {"weights": _WEIGHTS}),
    "KullbackLeiberDivergence": Entry(
        "Kullback-Leibler divergence (keras.losses.KLDivergence).",
        {
            "weights": _WEIGHTS,
            "dim": integer(
                -1, "The axis of the distributions; Keras uses the last one."
            ),
        },
    ),
}
