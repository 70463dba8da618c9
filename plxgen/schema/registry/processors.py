"""Feature processors: operations applied to one feature inside the input pipeline.

Each name is one `ProcessorKind` entry: its arguments and the statements it
writes into the script's processing function, so the TF functions a name
calls are named here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from plxgen.schema.registry.common import JSON, Entry, boolean, enum, integer, number
from plxgen.schema.registry.initializers import DTYPES

# A statement, or (argument, the statement written for each of its values;
# none for a value not listed).
Statement: TypeAlias = str | tuple[str, dict[Any, str]]


@dataclass(frozen=True, kw_only=True)
class ProcessorKind(Entry):
    """A feature processor: what it writes into the function processing one feature.

    `code` holds its statements, Python source in which `{x}` stands for the
    feature (a batch of it), `{seed}` for the op's own seed and `{name}` for
    the literal of the argument `name` (as lowering completes and adjusts the
    arguments). `random_code` replaces `code` when the argument is_random is
    set; `random` marks a name that always draws random numbers. `helper` is
    the script's own function (templates/processors.py.j2) that the random
    statements call. `image`: an image operation, which a pipeline without
    images refuses. `keeps_dtype`: its output has its input's dtype (it only
    moves values); one with a `dtype` argument outputs that dtype, any other
    float32.
    """

    code: tuple[Statement, ...]
    random_code: tuple[Statement, ...] = ()
    helper: str | None = None
    random: bool = False
    image: bool = True
    keeps_dtype: bool = False


_IS_RANDOM = boolean(False, "Draw it at random per example (seeded by tf_random_seed).")
# 2017's op-level seed: with tf_random_seed, it picks the op's random stream.
_SEED_ARG: JSON = {
    "type": ["integer", "null"],
    "minimum": -(2**31),
    "maximum": 2**31 - 1,
    "default": None,
    "description": "The op's own seed, folded into tf_random_seed (null: the op's position picks its stream).",
}
COLOR_SPACES = ["rgb", "grayscale", "hsv", "yiq", "yuv"]
# 2017 tf.image.ResizeMethod numbers, then TensorFlow 2 names.
RESIZE_METHODS: dict[Any, str] = {
    0: "bilinear", 1: "nearest", 2: "bicubic", 3: "area",
    "bilinear": "bilinear", "nearest": "nearest", "bicubic": "bicubic", "area": "area",
    "lanczos3": "lanczos3", "lanczos5": "lanczos5", "gaussian": "gaussian", "mitchellcubic": "mitchellcubic",
}  # fmt: skip
_SIZE: JSON = {"type": "integer", "minimum": 1, "maximum": 65536}
_BOX: JSON = {
    "type": "array",
    "items": {"type": "number", "minimum": 0, "maximum": 1},
    "minItems": 4,
    "maxItems": 4,
    "description": "[y_min, x_min, y_max, x_max], as fractions of the image.",
}
_PER_CHANNEL: JSON = {
    "anyOf": [
        {"type": "number"},
        {"type": "array", "items": {"type": "number"}, "minItems": 1, "maxItems": 4096},
    ]
}

# An image as float32 in [0, 1], as the color-space conversions take it.
_AS_FLOAT = "tf.image.convert_image_dtype({x}, tf.float32)"
# The color spaces converted from and to RGB through tf.image.<space>_to_rgb / rgb_to_<space>.
_CONVERTED = [space for space in COLOR_SPACES if space not in ("rgb", "grayscale")]

FEATURE_PROCESSORS: dict[str, ProcessorKind] = {
    "Cast": ProcessorKind(
        "Cast to a dtype (tf.cast).",
        {"dtype": enum(DTYPES, None, "The target dtype.")},
        ("dtype",),
        code=("{x} = tf.cast({x}, {dtype})",),
        image=False,
    ),
    "Standardization": ProcessorKind(
        "Scale each image to zero mean and unit variance (tf.image.per_image_standardization).",
        code=("{x} = tf.image.per_image_standardization({x})",),
    ),
    "Reshape": ProcessorKind(
        "Reshape each example (the batch axis is kept).",
        {
            "target_shape": {
                "anyOf": [
                    {"type": "integer", "minimum": 1},
                    {
                        "type": "array",
                        "items": {"type": "integer", "minimum": -1},
                        "minItems": 1,
                    },
                ],
                "description": "The new shape of one example (a number: a flat vector, as 2017 files write 784).",
            }
        },
        ("target_shape",),
        # `shape`: lowering prepends the batch axis to target_shape.
        code=("{x} = tf.reshape({x}, {shape})",),
        image=False,
        keeps_dtype=True,
    ),
    "Resize": ProcessorKind(
        "Resize images (tf.image.resize); float32 output unless the method is nearest.",
        {
            "height": {**_SIZE, "description": "Output height."},
            "width": {**_SIZE, "description": "Output width."},
            "method": enum(list(RESIZE_METHODS), "bilinear", "Interpolation: a 2017 number (0-3) or a name."),
        },
        ("height", "width"),
        code=("{x} = tf.image.resize({x}, [{height}, {width}], method={method})",),
    ),
    "CentralCrop": ProcessorKind(
        "Keep the central part of each image (tf.image.central_crop).",
        {"central_fraction": number(None, "The fraction of each side kept.", exclusiveMinimum=0, maximum=1)},
        ("central_fraction",),
        code=("{x} = tf.image.central_crop({x}, {central_fraction})",),
        keeps_dtype=True,
    ),
    "RandomCrop": ProcessorKind(
        "Crop a height x width window at a random place in each image.",
        {"height": {**_SIZE, "description": "Crop height."}, "width": {**_SIZE, "description": "Crop width."}},
        ("height", "width"),
        code=("{x} = random_crop({x}, {height}, {width}, {seed})",),
        helper="random_crop",
        random=True,
        keeps_dtype=True,
    ),
    "ExtractGlimpse": ProcessorKind(
        "A window of each image at given offsets (tf.image.extract_glimpse); float32 output.",
        {
            "size": {"type": "array", "items": _SIZE, "minItems": 2, "maxItems": 2, "description": "[height, width]."},
            "offsets": {
                "type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2,
                "description": "[y, x] of the window, the same for every image.",
            },
            "centered": boolean(True, "Offsets are relative to the image centre."),
            "normalized": boolean(True, "Offsets are fractions of the image size."),
            "uniform_noise": boolean(True, "Outside the image: uniform noise, else zeros."),
        },
        ("size", "offsets"),
        # `noise`: lowering names the noise of uniform_noise.
        code=(
            "{x} = tf.image.extract_glimpse(tf.cast({x}, tf.float32), {size}, "
            "tf.tile(tf.constant([{offsets}], tf.float32), [tf.shape({x})[0], 1]), "
            "centered={centered}, normalized={normalized}, noise={noise})",
        ),
    ),
    "ToBoundingBox": ProcessorKind(
        "Crop each image to a box (tf.image.crop_to_bounding_box).",
        {
            "offset_height": integer(None, "Top row of the box.", minimum=0),
            "offset_width": integer(None, "Left column of the box.", minimum=0),
            "target_height": {**_SIZE, "description": "Box height."},
            "target_width": {**_SIZE, "description": "Box width."},
        },
        ("offset_height", "offset_width", "target_height", "target_width"),
        code=(
            "{x} = tf.image.crop_to_bounding_box("
            "{x}, {offset_height}, {offset_width}, {target_height}, {target_width})",
        ),
        keeps_dtype=True,
    ),
    "Flip": ProcessorKind(
        "Flip images: axis 0 up-down, axis 1 left-right.",
        {"axis": enum([0, 1], 0, "0: up-down, 1: left-right."), "is_random": _IS_RANDOM, "seed": _SEED_ARG},
        code=(("axis", {0: "{x} = tf.image.flip_up_down({x})", 1: "{x} = tf.image.flip_left_right({x})"}),),
        # `image_axis`: lowering gives the axis of the images tensor (the batch axis first).
        random_code=("{x} = random_flip({x}, {image_axis}, {seed})",),
        helper="random_flip",
        keeps_dtype=True,
    ),
    "Transpose": ProcessorKind(
        "Swap the height and width of each image (tf.image.transpose).",
        code=("{x} = tf.image.transpose({x})",),
        keeps_dtype=True,
    ),
    "Rotate90": ProcessorKind(
        "Rotate images by k quarter turns counter-clockwise (random: 0-3 turns, square images).",
        {"k": integer(1, "Quarter turns.", minimum=0, maximum=3), "is_random": _IS_RANDOM, "seed": _SEED_ARG},
        code=("{x} = tf.image.rot90({x}, {k})",),
        random_code=("{x} = random_rot90({x}, {seed})",),
        helper="random_rot90",
        keeps_dtype=True,
    ),
    "ConvertColorSpace": ProcessorKind(
        "Convert images between color spaces (tf.image.rgb_to_* / *_to_rgb); float32 output.",
        {
            "from_space": enum(COLOR_SPACES, None, "The color space of the input."),
            "to_space": enum(COLOR_SPACES, None, "The color space of the output."),
        },
        ("from_space", "to_space"),
        # Through RGB: nothing to do for an RGB side.
        code=(
            ("from_space", {
                "grayscale": "{x} = tf.image.grayscale_to_rgb({x})",
                **{space: f"{{x}} = tf.image.{space}_to_rgb({_AS_FLOAT})" for space in _CONVERTED},
            }),
            ("to_space", {
                "grayscale": "{x} = tf.image.rgb_to_grayscale({x})",
                **{space: f"{{x}} = tf.image.rgb_to_{space}({_AS_FLOAT})" for space in _CONVERTED},
            }),
        ),
    ),
    "ConvertImagesDtype": ProcessorKind(
        "Convert images to a dtype, rescaling the values (tf.image.convert_image_dtype).",
        {
            "dtype": enum(["uint8", "uint16", "int32", "float16", "float32", "float64"], None, "The target dtype."),
            "saturate": boolean(False, "Clip before converting between integer types."),
        },
        ("dtype",),
        code=("{x} = tf.image.convert_image_dtype({x}, {dtype}, saturate={saturate})",),
    ),
    "AdjustBrightness": ProcessorKind(
        "Add delta to every pixel (random: a delta in [-delta, delta] per image); float32 output.",
        {"delta": number(None, "The brightness change.", minimum=-1e6, maximum=1e6), "is_random": _IS_RANDOM, "seed": _SEED_ARG},
        ("delta",),
        code=("{x} = tf.image.adjust_brightness({x}, {delta})",),
        random_code=("{x} = random_brightness({x}, {delta}, {seed})",),
        helper="random_brightness",
    ),
    "AdjustContrast": ProcessorKind(
        "Scale each channel's distance from its mean (tf.image.adjust_contrast; random: "
        "a factor in [contrast_factor, contrast_factor_max) per image); float32 output.",
        {
            "contrast_factor": number(None, "The contrast factor (random: the lowest).", minimum=-1e6, maximum=1e6),
            "contrast_factor_max": number(None, "The highest random contrast factor (with is_random).", minimum=0, maximum=1e6),
            "is_random": _IS_RANDOM, "seed": _SEED_ARG,
        },
        ("contrast_factor",),
        code=("{x} = tf.image.adjust_contrast({x}, {contrast_factor})",),
        random_code=("{x} = adjust_randomly(tf.image.adjust_contrast, {x}, {contrast_factor}, {contrast_factor_max}, {seed})",),
        helper="adjust_randomly",
    ),
    "AdjustHue": ProcessorKind(
        "Rotate the hue of RGB images (tf.image.adjust_hue; random: a delta in [-delta, delta) "
        "per image); float32 output.",
        {"delta": number(None, "Hue change in [-1, 1] (random: at most 0.5).", minimum=-1, maximum=1), "is_random": _IS_RANDOM, "seed": _SEED_ARG},
        ("delta",),
        code=("{x} = tf.image.adjust_hue({x}, {delta})",),
        # `lowest`: lowering gives -delta.
        random_code=("{x} = adjust_randomly(tf.image.adjust_hue, {x}, {lowest}, {delta}, {seed})",),
        helper="adjust_randomly",
    ),
    "AdjustSaturation": ProcessorKind(
        "Scale the saturation of RGB images (tf.image.adjust_saturation; random: a factor in "
        "[saturation_factor, saturation_factor_max) per image); float32 output.",
        {
            "saturation_factor": number(None, "The saturation factor (random: the lowest).", minimum=0, maximum=1e6),
            "saturation_factor_max": number(None, "The highest random saturation factor (with is_random).", minimum=0, maximum=1e6),
            "is_random": _IS_RANDOM, "seed": _SEED_ARG,
        },
        ("saturation_factor",),
        code=("{x} = tf.image.adjust_saturation({x}, {saturation_factor})",),
        random_code=("{x} = adjust_randomly(tf.image.adjust_saturation, {x}, {saturation_factor}, {saturation_factor_max}, {seed})",),
        helper="adjust_randomly",
    ),
    "AdjustGamma": ProcessorKind(
        "Gamma correction, gain * image ** gamma (tf.image.adjust_gamma); float32 output.",
        {
            "gamma": number(1.0, "The exponent.", minimum=0, maximum=1e6),
            "gain": number(1.0, "The multiplier.", minimum=-1e6, maximum=1e6),
        },
        code=("{x} = tf.image.adjust_gamma({x}, {gamma}, {gain})",),
    ),
    "DrawBoundingBoxes": ProcessorKind(
        "Draw the same boxes on every image (tf.image.draw_bounding_boxes); float32 output.",
        {
            "boxes": {"type": "array", "items": _BOX, "minItems": 1, "maxItems": 100, "description": "The boxes."},
            "colors": {
                "type": "array",
                "items": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
                "minItems": 1,
                "maxItems": 100,
                "description": "RGBA colors cycled over the boxes (default: TensorFlow's).",
            },
        },
        ("boxes",),
        # Lowering gives colors TensorFlow's default where the config has none.
        code=(
            f"{{x}} = tf.image.draw_bounding_boxes({_AS_FLOAT}, "
            "tf.tile(tf.constant([{boxes}], tf.float32), [tf.shape({x})[0], 1, 1]), "
            "tf.constant({colors}, tf.float32))",
        ),
    ),
    "TotalVariation": ProcessorKind(
        "Replace each image by its total variation, a float32 vector of one value "
        "(tf.image.total_variation).",
        code=("{x} = tf.reshape(tf.image.total_variation(tf.cast({x}, tf.float32)), [-1, 1])",),
    ),
    # Keras preprocessing layers, applied to whole batches in the pipeline.
    "Rescaling": ProcessorKind(
        "x * scale + offset, as float32 (keras.layers.Rescaling).",
        {
            "scale": number(None, "The multiplier.", minimum=-1e6, maximum=1e6),
            "offset": number(0.0, "Added after scaling.", minimum=-1e6, maximum=1e6),
        },
        ("scale",),
        code=("{x} = tf.cast({x}, tf.float32) * {scale} + {offset}",),
        image=False,
    ),
    "Normalization": ProcessorKind(
        "(x - mean) / sqrt(variance), per channel when lists (keras.layers.Normalization).",
        {
            "mean": {**_PER_CHANNEL, "description": "The mean, or one per channel."},
            "variance": {**_PER_CHANNEL, "description": "The variance (above 0), or one per channel."},
        },
        ("mean", "variance"),
        # `stddev`: lowering takes the square root of the variance.
        code=("{x} = (tf.cast({x}, tf.float32) - {mean}) / {stddev}",),
        image=False,
    ),
    "GaussianNoise": ProcessorKind(
        "Add zero-mean Gaussian noise drawn per example (augmentation of training data).",
        {"stddev": number(None, "Standard deviation of the noise.", minimum=0, maximum=1e6)},
        ("stddev",),
        code=(
            "{x} = tf.cast({x}, tf.float32)",
            "{x} += tf.random.stateless_normal(tf.shape({x}), {seed}, stddev={stddev})",
        ),
        random=True,
        image=False,
    ),
}  # fmt: skip
