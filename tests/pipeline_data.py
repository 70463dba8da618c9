"""Data for the pipeline examples, made here (no network): npz, CSV and sequence records.

Layout under a `data/` folder, as the examples in generated_examples/ expect:
`npz/digits_{train,eval}.npz`, `diabetes/diabetes_{train,eval}.csv`,
`tabular/diabetes_{train,eval}.tfrecord` + `tabular/meta_data.json` and
`sequences/sequences_{train,eval}.tfrecord` + `sequences/meta_data.json`,
`text/{source,target}_{train,eval}.txt`, `pairs/pairs_{train,eval}.tfrecord`, `captions/captions_{train,eval}.tfrecord`.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

SEQUENCE_VOCABULARY = 10  # token ids 1..9; 0 pads


def write_npz(folder: Path) -> None:
    """scikit-learn's digits as arrays x (float32, 64 pixels in [0, 1]) and y (int64)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "digits_train.npz", x=x[:1400], y=y[:1400])
    np.savez(folder / "digits_eval.npz", x=x[1400:], y=y[1400:])


def write_csv(folder: Path) -> None:
    """scikit-learn's diabetes table with a header; `target` is the label column."""
    from sklearn.datasets import load_diabetes

    data = load_diabetes()
    folder.mkdir(parents=True, exist_ok=True)
    header = [*data.feature_names, "target"]
    rows = np.column_stack([data.data, data.target])
    for split, part in (("train", rows[:350]), ("eval", rows[350:])):
        with open(folder / f"diabetes_{split}.csv", "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(part.tolist())


def write_tabular(folder: Path) -> None:
    """The diabetes table (progression as whole numbers) through `plxgen data csv`: tabular records."""
    from sklearn.datasets import load_diabetes

    from plxgen.data.datasets import make_dataset

    data = load_diabetes()
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "diabetes.csv"
    with open(source, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*data.feature_names, "target"])
        writer.writerows(
            [*row, int(target)] for row, target in zip(data.data.tolist(), data.target)
        )
    make_dataset("csv", str(source), folder, name="diabetes", label="target", force=True)


def sequence_examples(n: int, seed: int) -> list[tuple[list[int], int]]:
    """Token sequences of 3 to 20 ids; the label says whether 7s outnumber 3s."""
    rng = np.random.default_rng(seed)
    examples = []
    for _ in range(n):
        tokens = rng.integers(1, SEQUENCE_VOCABULARY, size=int(rng.integers(3, 21)))
        label = int((tokens == 7).sum() > (tokens == 3).sum())
        examples.append((tokens.tolist(), label))
    return examples


def write_sequences(folder: Path) -> None:
    """tf.train.SequenceExample records: context `label` and `length`, sequence `tokens`."""
    import tensorflow as tf

    folder.mkdir(parents=True, exist_ok=True)
    for split, n, seed in (("train", 600, 1), ("eval", 200, 2)):
        with tf.io.TFRecordWriter(str(folder / f"sequences_{split}.tfrecord")) as w:
            for tokens, label in sequence_examples(n, seed):
                example = tf.train.SequenceExample()
                context = example.context.feature
                context["label"].int64_list.value.append(label)
                context["length"].int64_list.value.append(len(tokens))
                steps = example.feature_lists.feature_list["tokens"]
                for token in tokens:
                    steps.feature.add().int64_list.value.append(token)
                w.write(example.SerializeToString())
    meta = {
        "context_features_types": {"label": "int64", "length": "int64"},
        "sequence_features_types": {"tokens": "int64"},
        "num_classes": 2,
        "vocabulary_size": SEQUENCE_VOCABULARY,
        "num_samples": {"train": 600, "eval": 200},
    }
    (folder / "meta_data.json").write_text(json.dumps(meta, indent=2))


def write_parallel_text(folder: Path) -> None:
    """Line-aligned text: a source line of token ids, its target line the label."""
    folder.mkdir(parents=True, exist_ok=True)
    for split, n, seed in (("train", 600, 3), ("eval", 200, 4)):
        examples = sequence_examples(n, seed)
        with open(folder / f"source_{split}.txt", "w") as source:
            source.writelines(" ".join(map(str, tokens)) + "\n" for tokens, _ in examples)
        with open(folder / f"target_{split}.txt", "w") as target:
            target.writelines(f"{label}\n" for _, label in examples)


def write_source_sequences(folder: Path) -> None:
    """tf.train.Example records: `source`, an int64 id list; `target`, text holding the label."""
    import tensorflow as tf

    folder.mkdir(parents=True, exist_ok=True)
    for split, n, seed in (("train", 600, 5), ("eval", 200, 6)):
        with tf.io.TFRecordWriter(str(folder / f"pairs_{split}.tfrecord")) as w:
            for tokens, label in sequence_examples(n, seed):
                example = tf.train.Example()
                example.features.feature["source"].int64_list.value.extend(tokens)
                example.features.feature["target"].bytes_list.value.append(str(label).encode())
                w.write(example.SerializeToString())


CAPTION_WORDS = ["red", "green", "blue", "square", "dot"]


def write_captions(folder: Path) -> None:
    """im2txt-style tf.train.SequenceExample records: 16x16 RGB png images, each mostly
    one colour, captioned "<colour> square" or "<colour> dot" (ids into CAPTION_WORDS)."""
    import tensorflow as tf

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    for split, n in (("train", 300), ("eval", 100)):
        with tf.io.TFRecordWriter(str(folder / f"captions_{split}.tfrecord")) as w:
            for _ in range(n):
                colour, shape = int(rng.integers(3)), int(rng.integers(3, 5))
                pixels = rng.integers(0, 96, size=(16, 16, 3))
                pixels[..., colour] += 150
                png = tf.io.encode_png(tf.constant(pixels.astype(np.uint8))).numpy()
                example = tf.train.SequenceExample()
                example.context.feature["image/data"].bytes_list.value.append(png)
                ids = example.feature_lists.feature_list["image/caption_ids"]
                words = example.feature_lists.feature_list["image/caption"]
                for token in (colour, shape):
                    ids.feature.add().int64_list.value.append(token)
                    words.feature.add().bytes_list.value.append(CAPTION_WORDS[token].encode())
                w.write(example.SerializeToString())


def record_offsets(path: Path) -> list[int]:
    """Where each record of a TFRecord file starts (its 12-byte header)."""
    data, offsets, offset = path.read_bytes(), [], 0
    while offset < len(data):
        offsets.append(offset)
        offset += 12 + int.from_bytes(data[offset : offset + 8], "little") + 4
    return offsets


def make_pipeline_data(data: Path) -> None:
    """Everything the pipeline examples read, under `data`."""
    write_npz(data / "npz")
    write_csv(data / "diabetes")
    write_tabular(data / "tabular")
    write_sequences(data / "sequences")
    write_parallel_text(data / "text")
    write_source_sequences(data / "pairs")
    write_captions(data / "captions")
