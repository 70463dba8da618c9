"""The `data_pipeline` blocks that read what `plxgen data` wrote, as YAML for stdout."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

# record_format of meta_data.json -> the pipeline kind that reads those records.
_KINDS = {"tabular": "TFRecordTabularPipeline"}
_IMAGES = "TFRecordImagePipeline"


def _relative(path: Path) -> str:
    """path relative to the current folder, with / separators (absolute where it cannot be)."""
    try:
        text = os.path.relpath(path)
    except ValueError:  # another drive
        text = os.path.abspath(path)
    return text.replace(os.sep, "/")


def pipeline_blocks(paths: list[Path]) -> dict[str, Any]:
    """{train: BLOCK, eval: BLOCK} for the files of one `plxgen data` run (meta_data.json last)."""
    meta_file = paths[-1]
    with open(meta_file, encoding="utf-8") as f:
        meta = json.load(f)
    kind = _KINDS.get(meta.get("record_format"), _IMAGES)
    blocks: dict[str, Any] = {}
    for split in ("train", "eval"):
        records = [p for p in paths if p.name.endswith(f"_{split}.tfrecord")]
        block: dict[str, Any] = {
            "data_files": [_relative(p) for p in records],
            "meta_data_file": _relative(meta_file),
        }
        if split == "eval":
            block["shuffle"] = False
        blocks[split] = {kind: block}
    return blocks


def blocks_yaml(paths: list[Path]) -> str:
    """pipeline_blocks as the YAML a user pastes into an experiment file."""
    text: str = yaml.safe_dump(
        pipeline_blocks(paths), sort_keys=False, default_flow_style=None, width=10000
    )
    return text
