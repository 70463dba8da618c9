"""Feature processors: operations applied to one feature inside the input pipeline."""

from __future__ import annotations

from typing import Any

from plxgen.schema.registry.common import JSON, Entry, boolean, enum, integer, number
from plxgen.schema.registry.initializers import DTYPES

_IS_RANDOM = boolean(False, "Draw it at random per example (seeded by tf_random_seed).")
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

FEATURE_PROCESSORS: dict[str, Entry] = {
    "Cast": Entry(
        "Cast to a dtype (tf.cast).",
        {"dtype": enum(DTYPES, None, "The target dtype.")},
        ("dtype",),
    ),
    "Standardization": Entry(
        "Scale each image to zero mean and unit variance (tf.image.per_image_standardization)."
    ),
    "Reshape": Entry(
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
    ),
    "Resize": Entry(
        "Resize images (tf.image.resize); float32 output unless the method is nearest.",
        {
            "height": {**_SIZE, "description": "Output height."},
            "width": {**_SIZE, "description": "Output width."},
            "method": enum(list(RESIZE_METHODS), "bilinear", "Interpolation: a 2017 number (0-3) or a name."),
        },
        ("height", "width"),
    ),
    "CentralCrop": Entry(
        "Keep the central part of each image (tf.image.central_crop).",
        {"central_fraction": number(None, "The fraction of each side kept.", exclusiveMinimum=0, maximum=1)},
        ("central_fraction",),
    ),
    "RandomCrop": Entry(
        "Crop a height x width window at a random place in each image.",
        {"height": {**_SIZE, "description": "Crop height."}, "width": {**_SIZE, "description": "Crop width."}},
        ("height", "width"),
    ),
    "ExtractGlimpse": Entry(
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
    ),
    "ToBoundingBox": Entry(
        "Crop each image to a box (tf.image.crop_to_bounding_box).",
        {
            "offset_height": integer(None, "Top row of the box.", minimum=0),
            "offset_width": integer(None, "Left column of the box.", minimum=0),
            "target_height": {**_SIZE, "description": "Box height."},
            "target_width": {**_SIZE, "description": "Box width."},
        },
        ("offset_height", "offset_width", "target_height", "target_width"),
    ),
    "Flip": Entry(
        "Flip images: axis 0 up-down, axis 1 left-right.",
        {"axis": enum([0, 1], 0, "0: up-down, 1: left-right."), "is_random": _IS_RANDOM},
    ),
    "Transpose": Entry("Swap the height and width of each image (tf.image.transpose)."),
    "Rotate90": Entry(
        "Rotate images by k quarter turns counter-clockwise (random: 0-3 turns, square images).",
        {"k": integer(1, "Quarter turns.", minimum=0, maximum=3), "is_random": _IS_RANDOM},
    ),
    "ConvertColorSpace": Entry(
        "Convert images between color spaces (tf.image.rgb_to_* / *_to_rgb); float32 output.",
        {
            "from_space": enum(COLOR_SPACES, None, "The color space of the input."),
            "to_space": enum(COLOR_SPACES, None, "The color space of the output."),
        },
        ("from_space", "to_space"),
    ),
    "ConvertImagesDtype": Entry(
        "Convert images to a dtype, rescaling the values (tf.image.convert_image_dtype).",
        {
            "dtype": enum(["uint8", "uint16", "int32", "float16", "float32", "float64"], None, "The target dtype."),
            "saturate": boolean(False, "Clip before converting between integer types."),
        },
        ("dtype",),
    ),
    "AdjustBrightness": Entry(
        "Add delta to every pixel (random: a delta in [-delta, delta] per image); float32 output.",
        {"delta": number(None, "The brightness change.", minimum=-1e6, maximum=1e6), "is_random": _IS_RANDOM},
        ("delta",),
    ),
    "AdjustContrast": Entry(
        "Scale each channel's distance from its mean (tf.image.adjust_contrast); float32 output.",
        {"contrast_factor": number(None, "The contrast factor.", minimum=-1e6, maximum=1e6)},
        ("contrast_factor",),
    ),
    "AdjustHue": Entry(
        "Rotate the hue of RGB images (tf.image.adjust_hue); float32 output.",
        {"delta": number(None, "Hue change in [-1, 1].", minimum=-1, maximum=1)},
        ("delta",),
    ),
    "AdjustSaturation": Entry(
        "Scale the saturation of RGB images (tf.image.adjust_saturation); float32 output.",
        {"saturation_factor": number(None, "The saturation factor.", minimum=0, maximum=1e6)},
        ("saturation_factor",),
    ),
    "AdjustGamma": Entry(
        "Gamma correction, gain * image ** gamma (tf.image.adjust_gamma); float32 output.",
        {
            "gamma": number(1.0, "The exponent.", minimum=0, maximum=1e6),
            "gain": number(1.0, "The multiplier.", minimum=-1e6, maximum=1e6),
        },
    ),
    "DrawBoundingBoxes": Entry(
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
    ),
    "TotalVariation": Entry(
        "Replace each image by its total variation, a float32 vector of one value "
        "(tf.image.total_variation)."
    ),
    # Keras preprocessing layers, applied to whole batches in the pipeline.
    "Rescaling": Entry(
        "x * scale + offset, as float32 (keras.layers.Rescaling).",
        {
            "scale": number(None, "The multiplier.", minimum=-1e6, maximum=1e6),
            "offset": number(0.0, "Added after scaling.", minimum=-1e6, maximum=1e6),
        },
        ("scale",),
    ),
    "Normalization": Entry(
        "(x - mean) / sqrt(variance), per channel when lists (keras.layers.Normalization).",
        {
            "mean": {**_PER_CHANNEL, "description": "The mean, or one per channel."},
            "variance": {**_PER_CHANNEL, "description": "The variance (above 0), or one per channel."},
        },
        ("mean", "variance"),
    ),
    "GaussianNoise": Entry(
        "Add zero-mean Gaussian noise drawn per example (augmentation of training data).",
        {"stddev": number(None, "Standard deviation of the noise.", minimum=0, maximum=1e6)},
        ("stddev",),
    ),
}  # fmt: skip
