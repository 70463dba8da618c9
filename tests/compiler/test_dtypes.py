"""Images decoded from records reach the model as uint8: a layer that fails on
them (a convolution, a noise layer) is a located error with the fix; a layer
that promotes uint8 to float itself (Dense, pooling, recurrent) is not."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from plxgen.compiler import check
from plxgen.compiler.load import load_bytes
from plxgen.errors import ConfigError


def config(layers: list[Any], processors: list[Any] | None = None) -> bytes:
    pipeline: dict[str, Any] = {"data_files": ["t.tfrecord"], "meta_data_file": "m.json"}
    if processors:
        pipeline["feature_processors"] = {"image": {"layers": processors}}
    return yaml.safe_dump(
        {
            "version": 1,
            "project": {"name": "t"},
            "model": {"regressor": {"graph": {"input_layers": "image", "layers": layers}}},
            "train": {"data_pipeline": {"TFRecordImagePipeline": pipeline}},
        }
    ).encode()


def codes(text: bytes) -> list[tuple[str, str]]:
    try:
        check(load_bytes(text, "t.yaml"))
    except ConfigError as exc:
        return [(d.path, d.code) for d in exc.diagnostics]
    return []


CONV = {"Conv2D": {"filters": 2, "kernel_size": 3}}
HEAD = [{"Flatten": None}, {"Dense": {"units": 1}}]


@pytest.mark.parametrize(
    ("layers", "processors", "expected"),
    [
        ([CONV, *HEAD], None, ["model.regressor.graph.layers[0].Conv2D"]),
        ([{"GaussianNoise": {"stddev": 0.1}}, *HEAD], None, ["model.regressor.graph.layers[0].GaussianNoise"]),
        ([{"Reshape": {"target_shape": [784]}}, {"Reshape": {"target_shape": [28, 28, 1]}}, CONV, *HEAD], None,
         ["model.regressor.graph.layers[2].Conv2D"]),
        ([CONV, *HEAD], [{"Cast": {"dtype": "float32"}}], []),
        ([CONV, *HEAD], [{"Flip": {"axis": 1}}, {"Standardization": None}], []),
        ([CONV, *HEAD], [{"Flip": {"axis": 1}}], ["model.regressor.graph.layers[0].Conv2D"]),
        ([{"Cast": {"dtype": "float32"}}, CONV, *HEAD], None, []),
        ([{"MaxPooling2D": {"pool_size": 2}}, CONV, *HEAD], None, []),
        (HEAD, None, []),
    ],
)  # fmt: skip
def test_uint8_images_reach_only_layers_that_take_them(
    layers: list[Any], processors: list[Any] | None, expected: list[str]
) -> None:
    found = codes(config(layers, processors))
    assert found == [(path, "uint8-input") for path in expected]
