"""Data pipelines: where the examples come from, and the options every pipeline shares."""

from __future__ import annotations

from plxgen.schema.registry.common import JSON, Entry, boolean, enum, integer

_PIPELINE_COMMON: dict[str, JSON] = {
    "name": {
        "type": "string",
        "description": "A name for the pipeline (informational).",
    },
    "shuffle": boolean(True, "Shuffle the examples (seeded by tf_random_seed)."),
    "num_epochs": integer(
        1, "Passes over the data; training also stops at train_steps.", minimum=1
    ),
    "batch_size": integer(64, "Examples per batch.", minimum=1),
    "allow_smaller_final_batch": boolean(
        True, "Keep the last, smaller batch of the data."
    ),
    "min_after_dequeue": integer(
        5000, "Shuffle buffer: examples kept ready to draw from.", minimum=0
    ),
    "capacity": integer(
        None,
        "Shuffle buffer size (default: min_after_dequeue + 3 * batch_size).",
        minimum=1,
    ),
    "num_threads": integer(3, "Parallel calls used to decode examples.", minimum=1),
    "bucket_boundaries": {
        "type": "array",
        "items": {"type": "integer", "minimum": 1},
        "description": "Sequence pipelines: bucket examples by length (not used by image pipelines).",
    },
    "dynamic_pad": boolean(
        False, "Sequence pipelines: pad each batch to its longest example."
    ),
    "cache": boolean(
        False,
        "Keep the decoded examples in memory after the first epoch (when the data fits).",
    ),
}

_FILES: JSON = {
    "anyOf": [
        {"type": "string", "minLength": 1},
        {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "minItems": 1,
        },
    ],
    "description": "Files, relative to the config file.",
}
_META_DATA_FILE: JSON = {
    "type": "string",
    "minLength": 1,
    "description": "The meta_data.json written beside the records, relative to the config file.",
}
_PROCESSORS_FIELD: JSON = {
    "type": "object",
    "additionalProperties": {"$ref": "#/definitions/feature_processor_graph"},
    "description": "Per feature, a graph of layers applied in the input pipeline.",
}
_NAME = "^[A-Za-z_][A-Za-z0-9_]{0,63}$"
_DELIMITER: JSON = {"type": "string", "minLength": 1, "maxLength": 8}


def _pipeline(
    description: str, fields: dict[str, JSON], required: tuple[str, ...]
) -> Entry:
    return Entry(
        description,
        {**_PIPELINE_COMMON, **fields, "feature_processors": _PROCESSORS_FIELD},
        required,
    )


PIPELINES: dict[str, Entry] = {
    "TFRecordImagePipeline": _pipeline(
        "Images in TFRecord files, TF-slim layout, described by a meta_data.json "
        "(image_format png, jpeg or raw uint8 bytes). Feature `image`.",
        {"data_files": _FILES, "meta_data_file": _META_DATA_FILE},
        ("data_files", "meta_data_file"),
    ),
    "TFRecordSequencePipeline": _pipeline(
        "tf.train.SequenceExample records whose context and sequence features are typed by "
        "`context_features_types` / `sequence_features_types` in the meta_data.json; every "
        "feature but the label is a model input.",
        {
            "data_files": _FILES,
            "meta_data_file": _META_DATA_FILE,
            "label_feature": {
                "type": "string",
                "pattern": _NAME,
                "default": "label",
                "description": "The context feature that holds the label.",
            },
        },
        ("data_files", "meta_data_file"),
    ),
    "NumpyPipeline": _pipeline(
        "Arrays of .npz files (numpy.savez), one example per row; features are named by their arrays.",
        {
            "data_files": _FILES,
            "features": {
                "type": "array",
                "items": {"type": "string", "pattern": _NAME},
                "minItems": 1,
                "uniqueItems": True,
                "default": ["x"],
                "description": "The arrays that are model inputs.",
            },
            "label": {
                "type": "string",
                "pattern": _NAME,
                "default": "y",
                "description": "The array of labels.",
            },
        },
        ("data_files",),
    ),
    "CsvPipeline": _pipeline(
        "Tabular data in CSV files with a header line: the numeric feature columns become one "
        "float32 feature `x` (in the order given), the label column the labels.",
        {
            "data_files": _FILES,
            "label_column": {
                "type": "string",
                "minLength": 1,
                "maxLength": 200,
                "description": "The header name of the label column.",
            },
            "feature_columns": {
                "type": "array",
                "items": {"type": "string", "minLength": 1, "maxLength": 200},
                "minItems": 1,
                "uniqueItems": True,
                "description": "Header names of the feature columns (default: every other column).",
            },
            "field_delim": {
                "type": "string",
                "minLength": 1,
                "maxLength": 1,
                "default": ",",
                "description": "The field delimiter.",
            },
        },
        ("data_files", "label_column"),
    ),
    "ParallelTextPipeline": _pipeline(
        "Line-aligned text files of token ids (2017 seq2seq input): line i of a source file is "
        "feature `source` (int64 ids, each batch padded with 0 to its longest line), line i of its "
        "target file the label: its first value (a classifier's class, a regressor's value). "
        "Empty tokens are skipped.",
        {
            "source_files": _FILES,
            "target_files": _FILES,
            "source_delimiter": {**_DELIMITER, "default": " ", "description": "Splits source lines."},
            "target_delimiter": {**_DELIMITER, "default": " ", "description": "Splits target lines."},
        },
        ("source_files", "target_files"),
    ),
    "TFRecordSourceSequencePipeline": _pipeline(
        "tf.train.Example records with a source and a target sequence (2017 seq2seq input): each "
        "an int64 id list, or text (a bytes feature) of ids split by its delimiter. The source is "
        "feature `source` (each batch padded with 0 to its longest); the target's first value the "
        "label (a classifier's class, a regressor's value).",
        {
            "files": _FILES,
            "source_field": {"type": "string", "default": "source", "description": "The source feature."},
            "target_field": {"type": "string", "default": "target", "description": "The target feature."},
            "source_delimiter": {**_DELIMITER, "default": " ", "description": "Splits a text source."},
            "target_delimiter": {**_DELIMITER, "default": " ", "description": "Splits a text target."},
        },
        ("files",),
    ),
    "ImageCaptioningPipeline": _pipeline(
        "Images with captions in tf.train.SequenceExample records (2017 im2txt layout): the "
        "context holds the encoded image, feature `image` (uint8, every image the size of the "
        "first record's), the feature list the caption ids, whose first id is the label (a "
        "classifier's class, a regressor's value).",
        {
            "files": _FILES,
            "image_field": {"type": "string", "default": "image/data", "description": "The encoded image (context)."},
            "image_format": enum(["jpg", "jpeg", "png"], "jpg", "The image encoding."),
            "caption_ids_field": {"type": "string", "default": "image/caption_ids", "description": "Caption ids (feature list)."},
            "caption_tokens_field": {
                "type": "string", "default": "image/caption", "description": "Caption tokens (not read: the ids are).",
            },
        },
        ("files",),
    ),
}  # fmt: skip
