"""Data pipelines: where the examples come from, and the options every pipeline shares.

Each kind is one `PipelineKind` entry: its fields, and everything a later stage
needs to know about it (the script function that reads it, its features, the
files and helpers that reader needs), so lowering and the templates ask the
entry, never a list of kind names.
"""

from __future__ import annotations

from dataclasses import dataclass

from plxgen.schema.registry.common import END, JSON, Entry, boolean, enum, integer


@dataclass(frozen=True, kw_only=True)
class PipelineKind(Entry):
    """A pipeline kind: its fields and what the script needs to read it.

    `reader` is the script's function that reads it, and `constants` the
    module-level tables that function reads (each written by the macro of
    templates/data.py.j2 of the same name). `features` are the features it
    gives the model; None where they are named by the field `features_field`
    of the config or, without one, by the data at run time. `files` is the
    field of its files; `targets` a field of files line-aligned with those
    (passed after them, `sources` telling where they start). `reader_args` are
    the reader's keyword arguments after the files, in order: fields of the
    config (or their defaults), `sources`, or `dynamic_pad` and
    `bucket_boundaries`, which every pipeline has but only these readers take.
    `records`: it reads TFRecord files (their framing is checked first).
    `lines`: it reads text files line by line, whose bytes must be UTF-8.
    `ids`: its features are token ids, each batch padded to its longest, and
    the first id of a target is the label. `source`: a source sequence (2017
    seq2seq input) whose ids may be text split by a delimiter. `images`: it
    holds images, so image processors apply. `modules`: standard-library
    modules its reader imports; `numpy`: its reader uses numpy. `caches`:
    `cache` applies (False where the reader holds the data in memory anyway).
    `pairs`: each record is a tuple (features and labels, source and target
    lines), whose parts its parse function takes as arguments. `meta_shapes`:
    its meta data alone gives its features' shapes and types (its reader opens
    no file but meta_data.json when it is given no files), so export builds the
    model without any data file.
    """

    reader: str
    constants: tuple[str, ...] = ()
    features: tuple[str, ...] | None = None
    features_field: str | None = None
    files: str = "data_files"
    targets: str | None = None
    reader_args: tuple[str, ...] = ()
    records: bool = False
    lines: bool = False
    ids: bool = False
    source: bool = False
    images: bool = False
    modules: tuple[str, ...] = ()
    numpy: bool = False
    caches: bool = True
    pairs: bool = False
    meta_shapes: bool = False

    @property
    def meta_data(self) -> bool:
        """Whether it reads a meta_data.json beside its data (the field meta_data_file)."""
        return "meta_data_file" in self.params

    @property
    def buckets(self) -> bool:
        """Whether it can bucket examples by length (its reader takes bucket_boundaries)."""
        return "bucket_boundaries" in self.reader_args


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
_NAME = "^[A-Za-z_][A-Za-z0-9_]{0,63}" + END
_NAME_MESSAGE = "a feature name is a letter or `_`, then up to 63 letters, digits or `_`"
_DELIMITER: JSON = {"type": "string", "minLength": 1, "maxLength": 8}


def _fields(fields: dict[str, JSON]) -> dict[str, JSON]:
    """A kind's own fields between the common ones and its feature processors."""
    return {**_PIPELINE_COMMON, **fields, "feature_processors": _PROCESSORS_FIELD}


PIPELINES: dict[str, PipelineKind] = {
    "TFRecordImagePipeline": PipelineKind(
        "Images in TFRecord files, TF-slim layout, described by a meta_data.json "
        "(image_format png, jpeg or raw uint8 bytes). Feature `image`.",
        _fields({"data_files": _FILES, "meta_data_file": _META_DATA_FILE}),
        ("data_files", "meta_data_file"),
        reader="image_dataset", constants=("image_features",), features=("image",),
        records=True, images=True, meta_shapes=True,
    ),
    "TFRecordTabularPipeline": PipelineKind(
        "Tabular tf.train.Example records as `plxgen data csv` and `plxgen data npz` write them, "
        "described by their meta_data.json (record_format tabular): the float32 vector `features` "
        "is feature `x`, `label` the label (an int64 class id, or a float32 value for a regressor).",
        _fields({"data_files": _FILES, "meta_data_file": _META_DATA_FILE}),
        ("data_files", "meta_data_file"),
        reader="tabular_dataset", features=("x",), records=True, meta_shapes=True,
    ),
    "TFRecordSequencePipeline": PipelineKind(
        "tf.train.SequenceExample records whose context and sequence features are typed by "
        "`context_features_types` / `sequence_features_types` in the meta_data.json; every "
        "feature but the label is a model input.",
        _fields({
            "data_files": _FILES,
            "meta_data_file": _META_DATA_FILE,
            "label_feature": {
                "type": "string",
                "pattern": _NAME,
                "patternErrorMessage": _NAME_MESSAGE,
                "default": "label",
                "description": "The context feature that holds the label.",
            },
        }),
        ("data_files", "meta_data_file"),
        reader="sequence_dataset", constants=("sequence_types",),
        reader_args=("label_feature", "dynamic_pad", "bucket_boundaries"), records=True,
        meta_shapes=True,
    ),
    "NumpyPipeline": PipelineKind(
        "Arrays of .npz files (numpy.savez), one example per row; features are named by their arrays.",
        _fields({
            "data_files": _FILES,
            "features": {
                "type": "array",
                "items": {"type": "string", "pattern": _NAME, "patternErrorMessage": _NAME_MESSAGE},
                "minItems": 1,
                "uniqueItems": True,
                "default": ["x"],
                "description": "The arrays that are model inputs.",
            },
            "label": {
                "type": "string",
                "pattern": _NAME,
                "patternErrorMessage": _NAME_MESSAGE,
                "default": "y",
                "description": "The array of labels.",
            },
        }),
        ("data_files",),
        reader="numpy_dataset", features_field="features", reader_args=("features", "label"),
        images=True, modules=("zipfile",), numpy=True, caches=False, pairs=True,
    ),
    "CsvPipeline": PipelineKind(
        "Tabular data in CSV files with a header line: the numeric feature columns become one "
        "float32 feature `x` (in the order given), the label column the labels.",
        _fields({
            "data_files": {**_FILES, "examples": [["data/diabetes/train.csv"]]},
            "label_column": {
                "type": "string",
                "minLength": 1,
                "maxLength": 200,
                "description": "The header name of the label column.",
                "examples": ["target"],
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
        }),
        ("data_files", "label_column"),
        reader="csv_dataset", features=("x",),
        reader_args=("label_column", "feature_columns", "field_delim"), modules=("csv",),
        lines=True,
    ),
    "ParallelTextPipeline": PipelineKind(
        "Line-aligned text files of token ids (2017 seq2seq input): line i of a source file is "
        "feature `source` (int64 ids, each batch padded with 0 to its longest line), line i of its "
        "target file the label: its first value (a classifier's class, a regressor's value). "
        "Empty tokens are skipped.",
        _fields({
            "source_files": _FILES,
            "target_files": _FILES,
            "source_delimiter": {**_DELIMITER, "default": " ", "description": "Splits source lines."},
            "target_delimiter": {**_DELIMITER, "default": " ", "description": "Splits target lines."},
        }),
        ("source_files", "target_files"),
        reader="parallel_text_dataset", constants=("target_dtype",), features=("source",),
        files="source_files", targets="target_files",
        reader_args=("sources", "source_delimiter", "target_delimiter", "dynamic_pad", "bucket_boundaries"),
        lines=True, ids=True, source=True, pairs=True,
    ),
    "TFRecordSourceSequencePipeline": PipelineKind(
        "tf.train.Example records with a source and a target sequence (2017 seq2seq input): each "
        "an int64 id list, or text (a bytes feature) of ids split by its delimiter. The source is "
        "feature `source` (each batch padded with 0 to its longest); the target's first value the "
        "label (a classifier's class, a regressor's value).",
        _fields({
            "files": _FILES,
            "source_field": {"type": "string", "default": "source", "description": "The source feature."},
            "target_field": {"type": "string", "default": "target", "description": "The target feature."},
            "source_delimiter": {**_DELIMITER, "default": " ", "description": "Splits a text source."},
            "target_delimiter": {**_DELIMITER, "default": " ", "description": "Splits a text target."},
        }),
        ("files",),
        reader="source_sequence_dataset", constants=("target_dtype",), features=("source",),
        files="files",
        reader_args=(
            "source_field", "target_field", "source_delimiter", "target_delimiter", "dynamic_pad",
            "bucket_boundaries",
        ),
        records=True, ids=True, source=True,
    ),
    "ImageCaptioningPipeline": PipelineKind(
        "Images with captions in tf.train.SequenceExample records (2017 im2txt layout): the "
        "context holds the encoded image, feature `image` (uint8, every image the size of the "
        "first record's), the feature list the caption ids, whose first id is the label (a "
        "classifier's class, a regressor's value).",
        _fields({
            "files": _FILES,
            "image_field": {"type": "string", "default": "image/data", "description": "The encoded image (context)."},
            "image_format": enum(["jpg", "jpeg", "png"], "jpg", "The image encoding."),
            "caption_ids_field": {"type": "string", "default": "image/caption_ids", "description": "Caption ids (feature list)."},
            "caption_tokens_field": {
                "type": "string", "default": "image/caption", "description": "Caption tokens (not read: the ids are).",
            },
        }),
        ("files",),
        reader="captioning_dataset", features=("image",), files="files",
        reader_args=("image_field", "caption_ids_field"), records=True, ids=True, images=True,
    ),
}  # fmt: skip
