"""Losses: the 2017 names of tf.losses, their arguments and 2017 defaults.

Each entry also says how lowering computes the loss per example: the Keras loss
class (`symbol`, called with `fixed`, then the renamed arguments, then
`reduction=None`) or the script's own function (`function`, bound to its
renamed arguments with functools.partial), which label kinds it accepts, and
how the model's outputs become scores for metrics. Each description names the
Keras loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from plxgen.schema.registry.common import Scored, Variant, integer, number

_WEIGHTS = number(1.0, "Multiplies the loss (2017 `weights`).")
_SMOOTHING = number(0.0, "Label smoothing in [0, 1].", minimum=0, maximum=1)


@dataclass(frozen=True, kw_only=True)
class LossEntry(Scored):
    """A loss; every loss takes `weights` (lowering multiplies the loss by it).

    By default a loss compares outputs with one-hot labels, a 0/1 label or values,
    not with class indices. A `by_labels` variant passes only its own arguments:
    the others must keep their defaults. `scores` is how the outputs become
    scores (softmax | sigmoid; None: as they are); `unsupported` holds arguments
    Keras only takes at their default, each with the reason.
    """

    labels: tuple[str, ...] = ("one_hot", "binary", "float")
    scores: str | None = None
    unsupported: dict[str, str] = field(default_factory=dict)
    # Where both `symbol` and `function` are given: the argument values at which
    # Keras' symbol computes the 2017 loss; at any other value, the function does.
    keras_at: dict[str, tuple[float, ...]] = field(default_factory=dict)

    def uses_function(self, values: dict[str, object]) -> bool:
        """Whether the script's own function computes the loss for these arguments."""
        if self.function is None:
            return False
        return not self.keras_at or any(
            values[arg] not in at for arg, at in self.keras_at.items()
        )


LOSSES: dict[str, LossEntry] = {
    "AbsoluteDifference": LossEntry(
        "Mean absolute error (keras.losses.MeanAbsoluteError).",
        {"weights": _WEIGHTS},
        symbol="keras.losses.MeanAbsoluteError",
    ),
    "MeanSquaredError": LossEntry(
        "Mean squared error (keras.losses.MeanSquaredError).",
        {"weights": _WEIGHTS},
        symbol="keras.losses.MeanSquaredError",
    ),
    "LogLoss": LossEntry(
        "Binary cross-entropy on probabilities as tf.losses.log_loss computed it, epsilon inside "
        "both logarithms (keras.losses.BinaryCrossentropy clips at a fixed 1e-7 instead).",
        {
            "weights": _WEIGHTS,
            "epsilon": number(1e-07, "Added to the probabilities inside both logarithms.", minimum=0, maximum=0.5),
        },
        function="log_loss",
        renames={"epsilon": "epsilon"},
    ),
    "HuberLoss": LossEntry(
        "Huber loss (keras.losses.Huber at clip 1; 2017's own formula, 0.5 * d**2 below clip "
        "and d - 0.5 above, at any other clip).",
        {
            "weights": _WEIGHTS,
            "clip": number(
                1.0,
                "The delta where the loss turns from quadratic to linear. The 2017 default 0.0 made "
                "it a plain squared error; plxgen uses 1.0, as tf.losses.huber_loss did.",
                exclusiveMinimum=0,
            ),
        },
        symbol="keras.losses.Huber",
        renames={"clip": "delta"},
        # 2017's formula continues with d - 0.5 above clip, Keras' with clip * (d - clip / 2):
        # the two agree at clip 1 only.
        function="huber_loss",
        keras_at={"clip": (1.0,)},
    ),
    "ClippedDeltaLoss": LossEntry(
        "Squared error of (prediction - label) clipped to [clip_value_min, clip_value_max].",
        {
            "weights": _WEIGHTS,
            "clip_value_min": number(-1.0, "Lower clip of the error."),
            "clip_value_max": number(1.0, "Upper clip of the error."),
        },
        function="clipped_delta_loss",
        renames={
            "clip_value_min": "clip_value_min",
            "clip_value_max": "clip_value_max",
        },
    ),
    "SoftmaxCrossEntropy": LossEntry(
        "Softmax cross-entropy on logits (keras.losses.CategoricalCrossentropy, or the sparse "
        "variant when labels are not one-hot encoded).",
        {"weights": _WEIGHTS, "label_smoothing": _SMOOTHING},
        symbol="keras.losses.CategoricalCrossentropy",
        renames={"label_smoothing": "label_smoothing"},
        fixed={"from_logits": True},
        labels=("one_hot", "sparse"),
        by_labels={
            "sparse": Variant(
                "keras.losses.SparseCategoricalCrossentropy",
                fixed={"from_logits": True},
            )
        },
        scores="softmax",
    ),
    "SigmoidCrossEntropy": LossEntry(
        "Sigmoid cross-entropy on logits (keras.losses.BinaryCrossentropy, from_logits=True).",
        {"weights": _WEIGHTS, "label_smoothing": _SMOOTHING},
        symbol="keras.losses.BinaryCrossentropy",
        renames={"label_smoothing": "label_smoothing"},
        fixed={"from_logits": True},
        scores="sigmoid",
    ),
    "HingeLoss": LossEntry(
        "Hinge loss on logits, labels in {0, 1} (keras.losses.Hinge).",
        {"weights": _WEIGHTS},
        symbol="keras.losses.Hinge",
        scores="sigmoid",
    ),
    "CosineDistance": LossEntry(
        "Cosine distance, 1 - sum(label * prediction) along dim, as tf.losses.cosine_distance: "
        "the vectors are taken as normalized (keras.losses.CosineSimilarity normalizes them).",
        {
            "weights": _WEIGHTS,
            "dim": integer(-1, "The axis along which the cosine is taken."),
        },
        function="cosine_distance",
        renames={"dim": "axis"},
    ),
    "PoissonLoss": LossEntry(
        "Poisson loss (keras.losses.Poisson).",
        {"weights": _WEIGHTS},
        symbol="keras.losses.Poisson",
    ),
    "KullbackLeiberDivergence": LossEntry(
        "Kullback-Leibler divergence (keras.losses.KLDivergence).",
        {
            "weights": _WEIGHTS,
            "dim": integer(
                -1, "The axis of the distributions; Keras uses the last one."
            ),
        },
        symbol="keras.losses.KLDivergence",
        unsupported={"dim": "Keras takes the divergence along the last axis only"},
    ),
}
