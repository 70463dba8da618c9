"""Derive the layer part of the experiment-file JSON Schema from Keras 3.

Run as `.venv/bin/python tools/gen_keras_layers.py [--check]`. The command
imports the installed keras, reads every covered layer's constructor with
`inspect.signature` and its Google-style docstring ("Args:" section), and
writes `schemas/keras_layers.json`:

    {
      "keras_version": "3.x.y",
      "layers": {Name: {"description", "properties", "required", "merge", "wrapper"}},
      "removed": {Name: advice},          # 2017 names missing from Keras 3
      "unsupported": {Name: reason},      # layers needing Python-only objects
      "excluded_parameters": {Name: {param: reason}},
    }

Only a constructor's explicit named parameters become properties (arguments
Keras takes only through `**kwargs` are left out), minus the base-layer
arguments (`name`, `trainable`, `dtype`, ...) that plxgen adds to every layer
itself. Types come from the name tables below first, then from the default's
Python type; a parameter neither settles keeps no "type" key.

With `--check` nothing is written: the command exits 1 when the committed file
differs from what it would write, 0 when it is up to date.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JSON = dict[str, Any]

REPO_ROOT = Path(__file__).resolve().parent.parent
OUTPUT = REPO_ROOT / "schemas" / "keras_layers.json"
OUTPUT_NAME = "schemas/keras_layers.json"
REGENERATE = "run .venv/bin/python tools/gen_keras_layers.py"
VAR_POSITIONAL = inspect.Parameter.VAR_POSITIONAL
VAR_KEYWORD = inspect.Parameter.VAR_KEYWORD

# The Keras layer vocabulary of 2017 Polyaxon experiment files.
VOCABULARY_2017: tuple[str, ...] = tuple("""
    LeakyReLU PReLU ELU ThresholdedReLU Conv1D Conv2D Conv3D Conv2DTranspose
    Conv3DTranspose SeparableConv2D UpSampling1D UpSampling2D UpSampling3D
    ZeroPadding1D ZeroPadding2D ZeroPadding3D Cropping1D Cropping2D Cropping3D
    ConvLSTM2D Masking Dropout SpatialDropout1D SpatialDropout2D SpatialDropout3D
    Activation Reshape Permute Flatten RepeatVector Dense ActivityRegularization
    Embedding Add Subtract Multiply Average Maximum Concatenate Dot GaussianNoise
    GaussianDropout AlphaDropout BatchNormalization MaxPooling1D MaxPooling2D
    MaxPooling3D AveragePooling1D AveragePooling2D AveragePooling3D
    GlobalAveragePooling1D GlobalAveragePooling2D GlobalAveragePooling3D
    GlobalMaxPooling1D GlobalMaxPooling2D GlobalMaxPooling3D SimpleRNN GRU LSTM
    TimeDistributed Bidirectional
    """.split())

# Commonly used Keras 3 layers added to the 2017 vocabulary.
MODERN_LAYERS: tuple[str, ...] = tuple("""
    Conv1DTranspose SeparableConv1D DepthwiseConv1D DepthwiseConv2D
    LayerNormalization GroupNormalization UnitNormalization Minimum ReLU Softmax
    Identity MultiHeadAttention Attention AdditiveAttention CategoryEncoding
    Normalization Rescaling Resizing CenterCrop RandomFlip RandomRotation
    RandomZoom RandomTranslation RandomContrast RandomCrop ConvLSTM1D ConvLSTM3D
    """.split())

_LOCALLY_CONNECTED = (
    "removed in Keras 3; use Conv1D/Conv2D (weights shared) or a Dense on patches"
)
# Advice for 2017 names that keras.layers no longer has (ThresholdedReLU is in
# the vocabulary above; the others come from older Keras 2 files).
REMOVED_ADVICE: dict[str, str] = {
    "ThresholdedReLU": "use ReLU with threshold=THETA",
    "LocallyConnected1D": _LOCALLY_CONNECTED,
    "LocallyConnected2D": _LOCALLY_CONNECTED,
    "Merge": "use Add, Subtract, Multiply, Average, Maximum, Concatenate or Dot",
}

MERGE_LAYERS = frozenset(
    "Add Subtract Multiply Average Maximum Minimum Concatenate Dot".split()
)
WRAPPER_LAYERS = frozenset({"TimeDistributed", "Bidirectional"})

# Base-layer arguments plxgen handles for every layer; dropped even where a
# constructor names them explicitly (SpatialDropout*, pooling, RandomCrop).
BASE_LAYER_ARGS = frozenset("""
    name trainable dtype autocast input_shape input_dim batch_size
    batch_input_shape input_length
    """.split())
# Base-layer names that are a real argument of one layer.
REAL_ARGS = frozenset({("Embedding", "input_dim")})

# Explicit parameters that only make sense as Python / NumPy objects, by layer.
EXCLUDED_PARAMETERS: dict[str, dict[str, str]] = {
    "Dense": {
        "quantization_config": "takes a keras.quantizers.QuantizationConfig object",
    },
    "Embedding": {
        "quantization_config": "takes a keras.quantizers.QuantizationConfig object",
        "weights": (
            "takes a NumPy array (a nested list raises AttributeError); "
            "use embeddings_initializer"
        ),
    },
    "Bidirectional": {
        "weights": "undocumented; takes a list of NumPy weight arrays",
    },
}

# Required Python-only parameters make the whole layer unsupported.
UNSUPPORTED_LAYERS: dict[str, str] = {}

# Parameters with a None default that Keras nevertheless refuses to leave None.
EFFECTIVELY_REQUIRED: dict[str, dict[str, str]] = {
    "CategoryEncoding": {"num_tokens": "Keras raises ValueError when it is None"},
}

# Only Conv1D's base class lets padding be "causal" (SeparableConv1D,
# DepthwiseConv1D, Conv1DTranspose and ConvLSTM1D raise ValueError).
CAUSAL_PADDING_LAYERS = frozenset({"Conv1D"})
# Layers whose `axis` may be a list of axes (the others call int(axis) or
# index a shape with it).
AXIS_LIST_LAYERS = frozenset(
    {"LayerNormalization", "UnitNormalization", "Softmax", "Normalization"}
)
NULLABLE_AXIS_LAYERS = frozenset({"Normalization"})
# Documented in the UpSampling2D and Resizing docstrings (the TensorFlow
# backend also takes "area"; other backends do not).
RESIZE_INTERPOLATIONS = ["bilinear", "nearest", "bicubic", "lanczos3", "lanczos5"]
# Value ranges of the random-augmentation factors (RandomContrast and
# RandomRotation read theirs from the class' _FACTOR_BOUNDS).
FACTOR_BOUNDS: dict[str, JSON] = {
    "RandomZoom": {"exclusiveMinimum": -1, "maximum": 1},
    "RandomTranslation": {"minimum": -1, "maximum": 1},
}

# Descriptions of parameters the Keras docstrings leave out.
GENERIC_DESCRIPTIONS: dict[str, str] = {
    "data_format": (
        'Either "channels_last" or "channels_first": the ordering of the '
        "dimensions in the inputs. Defaults to the image_data_format of the "
        'Keras config ("channels_last").'
    ),
    "seed": "Integer seed of the layer's random number generator (null: unseeded).",
    "dilation_rate": (
        "int or tuple/list of integers, the dilation rate to use for dilated "
        "convolution."
    ),
    "output_padding": (
        "int or tuple/list of integers, the amount of padding along each spatial "
        "dimension of the output; it must be lower than the stride. If null "
        "(default), the output shape is inferred."
    ),
    "mask_value": (
        "Timesteps whose features all equal mask_value are masked (skipped) in "
        "all downstream layers."
    ),
    "antialias": "Whether to use an antialiasing filter when downsampling an image.",
}

DESCRIPTION_LIMIT = 300
_SECTIONS = (
    r"(Call arguments|Input shape|Output shape|Returns|Raises|Examples?|References?)"
)
_SECTION_END = re.compile(r"\s+" + _SECTIONS + r":.*$")
_ARG_LINE = re.compile(r"^(\*{0,2}\w+)(?: \([^)]*\))?:(?:\s+(.*))?$")
_SENTENCE_END = re.compile(r"(?<=[^\d\s.])\.(?=\s)")
_SECTION_HEADER = re.compile("^" + _SECTIONS + ":")


@dataclass(frozen=True)
class ParamContext:
    """What a type rule may look at: the layer, its rank and the parameter."""

    layer: str
    cls: type
    name: str
    default: Any
    rank: int | None


# ------------------------------------------------------------ keras import


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence C-level stderr (TensorFlow's start-up logging) inside the block."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def import_keras() -> Any:
    """Import keras (TensorFlow backend) without TensorFlow's start-up chatter."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    with _quiet_stderr():
        import keras
    return keras


# ------------------------------------------------------------- docstrings


def _indent(line: str) -> int:
    """Number of leading spaces."""
    return len(line) - len(line.lstrip(" "))


def parse_args_section(doc: str, param_names: set[str]) -> dict[str, str]:
    """Map argument names to their text in a Google-style "Args:" section.

    Argument lines sit one level below "Args:", continuation lines deeper. A
    slightly misindented line that names an otherwise undocumented parameter
    (Conv3DTranspose's `output_padding`) also starts an argument.
    """
    lines = doc.expandtabs().splitlines()
    start = next(
        (i for i, line in enumerate(lines) if line.strip() in ("Args:", "Arguments:")),
        None,
    )
    if start is None:
        return {}
    base = _indent(lines[start])
    texts: dict[str, list[str]] = {}
    arg_indent: int | None = None
    current: str | None = None
    for line in lines[start + 1 :]:
        stripped = line.strip()
        if not stripped:
            continue
        indent = _indent(line)
        if indent <= base or _SECTION_HEADER.match(stripped):
            break
        if arg_indent is None:
            arg_indent = indent
        match = _ARG_LINE.match(stripped)
        if match and indent == arg_indent:
            current = None if match.group(1).startswith("*") else match.group(1)
        elif (
            match
            and indent < arg_indent + 4
            and match.group(1) in param_names - texts.keys()
        ):
            current = match.group(1)
        elif current is not None:
            texts[current].append(stripped)
            continue
        else:
            continue
        if current is not None:
            texts[current] = [match.group(2) or ""]
    return {name: " ".join(parts) for name, parts in texts.items()}


def clean_description(text: str) -> str:
    """Collapse whitespace, drop a swallowed next section, cap at ~300 chars."""
    text = _SECTION_END.sub("", " ".join(text.split()))
    if len(text) <= DESCRIPTION_LIMIT:
        return text
    head = text[:DESCRIPTION_LIMIT]
    ends = [match.end() for match in _SENTENCE_END.finditer(head) if match.end() >= 100]
    if ends:
        return head[: ends[-1]]
    return head[: head.rfind(" ")].rstrip(",;:") + " ..."


def class_summary(cls: type) -> str:
    """The first line of the class docstring."""
    doc = inspect.cleandoc(cls.__doc__ or "")
    return next(
        (line.strip() for line in doc.splitlines() if line.strip()), cls.__name__
    )


# ------------------------------------------------------------ schema parts


def ref(definition: str) -> JSON:
    """A reference to one of the experiment schema's definitions."""
    return {"$ref": f"#/definitions/{definition}"}


def integer(minimum: int | None = None) -> JSON:
    """An integer, optionally bounded below."""
    schema: JSON = {"type": "integer"}
    if minimum is not None:
        schema["minimum"] = minimum
    return schema


def number(**bounds: float) -> JSON:
    """A number with JSON Schema bounds (minimum=..., exclusiveMaximum=...)."""
    return {"type": "number", **bounds}


def array(items: JSON, length: int | None = None, min_items: int = 1) -> JSON:
    """An array of `items`, of exactly `length` items when given."""
    schema: JSON = {"type": "array", "items": items}
    if length is not None:
        schema["minItems"] = schema["maxItems"] = length
    else:
        schema["minItems"] = min_items
    return schema


def one_or_tuple(item: JSON, rank: int | None) -> JSON:
    """A single value or a tuple of `rank` of them (Keras' standardize_tuple)."""
    return {"anyOf": [item, array(item, rank)]}


def enum(values: list[Any]) -> JSON:
    """A fixed set of values."""
    return {"enum": list(values)}


def allow_null(schema: JSON) -> JSON:
    """Extend a schema so that it also accepts null."""
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    if "enum" in schema:
        return (
            schema
            if None in schema["enum"]
            else {**schema, "enum": [*schema["enum"], None]}
        )
    if "anyOf" in schema:
        if {"type": "null"} in schema["anyOf"]:
            return schema
        return {**schema, "anyOf": [*schema["anyOf"], {"type": "null"}]}
    kind = schema.get("type")
    if isinstance(kind, str) and kind != "null":
        return {**schema, "type": [kind, "null"]}
    if isinstance(kind, list) and "null" not in kind:
        return {**schema, "type": [*kind, "null"]}
    return schema


def spatial_padding(rank: int | None) -> JSON:
    """ZeroPadding/Cropping amounts: an int, `rank` ints or `rank` (before, after)s."""
    amount = integer(0)
    pair = array(amount, 2)
    if rank == 1:
        return {"anyOf": [amount, pair]}
    return {"anyOf": [amount, array(amount, rank), array(pair, rank)]}


def factor_schema(ctx: ParamContext) -> JSON:
    """A random-augmentation factor: one number or a (lower, upper) pair."""
    bounds = FACTOR_BOUNDS.get(ctx.layer)
    if bounds is None:
        low, high = getattr(ctx.cls, "_FACTOR_BOUNDS", (-1, 1))
        bounds = {"minimum": low, "maximum": high}
    value = number(**bounds)
    return {"anyOf": [value, array(value, 2)]}


def axis_schema(ctx: ParamContext) -> JSON:
    """`axis`: an integer, or a list of them where the layer allows it."""
    schema = (
        {"anyOf": [integer(), array(integer())]}
        if ctx.layer in AXIS_LIST_LAYERS
        else integer()
    )
    return allow_null(schema) if ctx.layer in NULLABLE_AXIS_LAYERS else schema


def padding_schema(ctx: ParamContext) -> JSON:
    """`padding`: amounts for ZeroPadding, a mode for convolutions and pooling."""
    if ctx.layer.startswith("ZeroPadding"):
        return spatial_padding(ctx.rank)
    modes = (
        ["valid", "same", "causal"]
        if ctx.layer in CAUSAL_PADDING_LAYERS
        else ["valid", "same"]
    )
    return enum(modes)


def interpolation_schema(ctx: ParamContext) -> JSON:
    """`interpolation`: the layer's supported set, else the documented resize set."""
    supported = getattr(ctx.cls, "_SUPPORTED_INTERPOLATION", None)
    return enum(list(supported) if supported else RESIZE_INTERPOLATIONS)


def fill_mode_schema(ctx: ParamContext) -> JSON:
    """`fill_mode`: the layer's supported set (Resizing only pads with a constant)."""
    supported = getattr(ctx.cls, "_SUPPORTED_FILL_MODE", None)
    return enum(list(supported) if supported else ["constant"])


def random_flip_modes(ctx: ParamContext) -> JSON:
    """RandomFlip's modes, from the constants of its module."""
    module = sys.modules[ctx.cls.__module__]
    return enum([module.HORIZONTAL, module.VERTICAL, module.HORIZONTAL_AND_VERTICAL])


def numbers_or_arrays() -> JSON:
    """A number, or a (possibly nested) array of numbers."""
    return {"anyOf": [number(), array({"type": ["number", "array"]})]}


Rule = Callable[[ParamContext], JSON]

POSITIVE_INTEGERS = frozenset("""
    units filters input_dim output_dim n num_heads key_dim value_dim
    depth_multiplier num_tokens height width lora_rank sliding_window
    """.split())

# Rules for one parameter of one layer; they win over NAME_RULES.
LAYER_RULES: dict[tuple[str, str], Rule] = {
    ("ActivityRegularization", "l1"): lambda ctx: number(minimum=0),
    ("ActivityRegularization", "l2"): lambda ctx: number(minimum=0),
    ("GroupNormalization", "groups"): lambda ctx: {
        "anyOf": [integer(1), {"const": -1}]
    },
    ("Rescaling", "scale"): lambda ctx: {"anyOf": [number(), array(number())]},
    ("Rescaling", "offset"): lambda ctx: {"anyOf": [number(), array(number())]},
    ("RandomFlip", "mode"): random_flip_modes,
    ("UpSampling1D", "size"): lambda ctx: integer(1),
    ("Bidirectional", "merge_mode"): lambda ctx: enum(
        ["sum", "mul", "concat", "ave", None]
    ),
}

# Rules by parameter name.
NAME_RULES: dict[str, Rule] = {
    "activation": lambda ctx: ref("activation"),
    "recurrent_activation": lambda ctx: ref("activation"),
    "layer": lambda ctx: ref("layer"),
    "backward_layer": lambda ctx: ref("layer"),
    "groups": lambda ctx: integer(1),
    "kernel_size": lambda ctx: one_or_tuple(integer(1), ctx.rank),
    "strides": lambda ctx: one_or_tuple(integer(1), ctx.rank),
    "dilation_rate": lambda ctx: one_or_tuple(integer(1), ctx.rank),
    "pool_size": lambda ctx: one_or_tuple(integer(1), ctx.rank),
    "size": lambda ctx: one_or_tuple(integer(1), ctx.rank),
    "output_padding": lambda ctx: one_or_tuple(integer(0), ctx.rank),
    "padding": padding_schema,
    "cropping": lambda ctx: spatial_padding(ctx.rank),
    "target_shape": lambda ctx: array(integer(-1)),
    "dims": lambda ctx: {**array(integer(1)), "uniqueItems": True},
    "axis": axis_schema,
    "axes": lambda ctx: one_or_tuple(integer(), 2),
    "shared_axes": lambda ctx: one_or_tuple(integer(1), None),
    "attention_axes": lambda ctx: one_or_tuple(integer(), None),
    "output_shape": lambda ctx: one_or_tuple(integer(1), None),
    "noise_shape": lambda ctx: array({"anyOf": [integer(1), {"type": "null"}]}),
    "rate": lambda ctx: number(minimum=0, exclusiveMaximum=1),
    "dropout": lambda ctx: number(minimum=0, maximum=1),
    "recurrent_dropout": lambda ctx: number(minimum=0, maximum=1),
    "momentum": lambda ctx: number(minimum=0, maximum=1),
    "renorm_momentum": lambda ctx: number(minimum=0, maximum=1),
    "epsilon": lambda ctx: number(exclusiveMinimum=0),
    "stddev": lambda ctx: number(minimum=0, maximum=1),
    "negative_slope": lambda ctx: number(minimum=0),
    "threshold": lambda ctx: number(minimum=0),
    "max_value": lambda ctx: number(minimum=0),
    "alpha": lambda ctx: number(),
    "mask_value": lambda ctx: number(),
    "fill_value": lambda ctx: number(),
    "lora_alpha": lambda ctx: number(exclusiveMinimum=0),
    "seed": lambda ctx: integer(),
    "data_format": lambda ctx: enum(["channels_last", "channels_first"]),
    "interpolation": interpolation_schema,
    "fill_mode": fill_mode_schema,
    "score_mode": lambda ctx: enum(["dot", "concat"]),
    "output_mode": lambda ctx: enum(["one_hot", "multi_hot", "count"]),
    "use_cudnn": lambda ctx: enum(["auto", True, False]),
    "flash_attention": lambda ctx: {"type": "boolean"},
    "factor": factor_schema,
    "height_factor": factor_schema,
    "width_factor": factor_schema,
    "value_range": lambda ctx: array(number(), 2),
    "mean": lambda ctx: numbers_or_arrays(),
    "variance": lambda ctx: numbers_or_arrays(),
    "renorm_clipping": lambda ctx: {
        "type": "object",
        "properties": {key: number() for key in ("rmax", "rmin", "dmax")},
        "additionalProperties": False,
    },
}

# Rules by name suffix.
SUFFIX_RULES: dict[str, Rule] = {
    "_initializer": lambda ctx: ref("initializer"),
    "_regularizer": lambda ctx: ref("regularizer"),
    "_constraint": lambda ctx: ref("constraint"),
}


def schema_from_default(default: Any) -> JSON | None:
    """A type read off the default value, or None when it says nothing."""
    if isinstance(default, bool):
        return {"type": "boolean"}
    if isinstance(default, int):
        return integer()
    if isinstance(default, float):
        return number()
    if isinstance(default, str):
        return {"type": "string"}
    if (
        isinstance(default, (tuple, list))
        and default
        and all(type(item) is int for item in default)
    ):
        return array(integer())
    return None


def type_schema(ctx: ParamContext) -> JSON | None:
    """The value schema of one parameter, or None when no rule settles it."""
    rule = LAYER_RULES.get((ctx.layer, ctx.name)) or NAME_RULES.get(ctx.name)
    if rule is None and ctx.name in POSITIVE_INTEGERS:
        rule = lambda ctx: integer(1)  # noqa: E731
    if rule is None:
        rule = next(
            (r for suffix, r in SUFFIX_RULES.items() if ctx.name.endswith(suffix)), None
        )
    if rule is not None:
        return rule(ctx)
    return schema_from_default(ctx.default)


# ---------------------------------------------------------------- layers


def to_json(value: Any) -> Any:
    """A default as JSON (tuples become lists); TypeError when it has no JSON form."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (tuple, list)):
        return [to_json(item) for item in value]
    raise TypeError(f"no JSON form for {value!r}")


def layer_rank(name: str) -> int | None:
    """The spatial rank in a layer's name (Conv2D -> 2), if any."""
    match = re.search(r"([123])D", name)
    return int(match.group(1)) if match else None


def explicit_parameters(layer: str, cls: type) -> list[inspect.Parameter]:
    """The constructor's named parameters plxgen exposes."""
    params = []
    for param in inspect.signature(cls.__init__).parameters.values():
        if param.name == "self" or param.kind in (VAR_POSITIONAL, VAR_KEYWORD):
            continue
        if param.name in BASE_LAYER_ARGS and (layer, param.name) not in REAL_ARGS:
            continue
        if param.name in EXCLUDED_PARAMETERS.get(layer, {}):
            continue
        params.append(param)
    return params


def is_required(layer: str, param: inspect.Parameter) -> bool:
    """No default, or a None default Keras refuses (EFFECTIVELY_REQUIRED)."""
    return (
        param.default is inspect.Parameter.empty
        or param.name in EFFECTIVELY_REQUIRED.get(layer, {})
    )


def property_schema(
    layer: str, cls: type, param: inspect.Parameter, doc_args: dict[str, str]
) -> JSON:
    """The full property schema of one parameter: type, default, description."""
    required = is_required(layer, param)
    default = None if param.default is inspect.Parameter.empty else param.default
    ctx = ParamContext(layer, cls, param.name, default, layer_rank(layer))
    schema = dict(type_schema(ctx) or {})
    if not required and default is None and schema:
        schema = allow_null(schema)
    if not required:
        try:
            schema["default"] = to_json(param.default)
        except TypeError:
            pass
    text = doc_args.get(param.name) or GENERIC_DESCRIPTIONS.get(param.name)
    schema["description"] = (
        clean_description(text)
        if text
        else f"The `{param.name}` argument of keras.layers.{layer}."
    )
    return schema


def layer_schema(layer: str, cls: type) -> JSON:
    """One layer's entry: description, properties, required, merge, wrapper."""
    params = explicit_parameters(layer, cls)
    doc_args = parse_args_section(
        inspect.cleandoc(cls.__doc__ or ""), {p.name for p in params}
    )
    properties = {p.name: property_schema(layer, cls, p, doc_args) for p in params}
    return {
        "description": clean_description(class_summary(cls)),
        "properties": properties,
        "required": [p.name for p in params if is_required(layer, p)],
        "merge": layer in MERGE_LAYERS,
        "wrapper": layer in WRAPPER_LAYERS,
    }


def check_removed_advice(keras: Any) -> None:
    """The ThresholdedReLU advice relies on ReLU's `threshold` argument."""
    if "threshold" not in inspect.signature(keras.layers.ReLU.__init__).parameters:
        raise SystemExit(
            "keras.layers.ReLU has no `threshold` argument: "
            "revise the ThresholdedReLU advice"
        )


def build() -> JSON:
    """The whole keras_layers.json document."""
    keras = import_keras()
    check_removed_advice(keras)
    layers: JSON = {}
    removed: dict[str, str] = {}
    for name in dict.fromkeys(VOCABULARY_2017 + MODERN_LAYERS + tuple(REMOVED_ADVICE)):
        cls = getattr(keras.layers, name, None)
        if cls is None:
            removed[name] = REMOVED_ADVICE.get(
                name, f"not in keras.layers {keras.__version__}"
            )
        elif name not in UNSUPPORTED_LAYERS:
            layers[name] = layer_schema(name, cls)
    return {
        "keras_version": keras.__version__,
        "layers": layers,
        "removed": removed,
        "unsupported": dict(UNSUPPORTED_LAYERS),
        "excluded_parameters": {
            layer: dict(params)
            for layer, params in EXCLUDED_PARAMETERS.items()
            if layer in layers
        },
    }


def render(document: JSON) -> str:
    """The document exactly as committed."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write schemas/keras_layers.json, or with --check compare it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when the committed file is out of date",
    )
    args = parser.parse_args(argv)
    document = build()
    text = render(document)
    summary = f"{len(document['layers'])} layers, {len(document['removed'])} removed"
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print(f"{OUTPUT_NAME} is out of date: {REGENERATE}", file=sys.stderr)
            return 1
        print(f"{OUTPUT_NAME} is up to date: {summary}")
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT_NAME}: {summary}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
