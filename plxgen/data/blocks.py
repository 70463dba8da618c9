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


def _relative(path: Path, start: Path) -> str:
    """path relative to `start`, with / separators (absolute where it cannot be)."""
    try:
        text = os.path.relpath(path, start)
    except ValueError:  # another drive
        text = os.path.abspath(path)
    return text.replace(os.sep, "/")


def pipeline_blocks(paths: list[Path], config_dir: Path) -> dict[str, Any]:
    """{train: BLOCK, eval: BLOCK} for the files of one `plxgen data` run (meta_data.json last).

    The paths are relative to `config_dir`, the folder of the experiment file
    that will hold the blocks: a config's paths are relative to the config.
    """
    meta_file = paths[-1]
    with open(meta_file, encoding="utf-8") as f:
        meta = json.load(f)
    kind = _KINDS.get(meta.get("record_format"), _IMAGES)
    blocks: dict[str, Any] = {}
    for split in ("train", "eval"):
        records = [p for p in paths if p.name.endswith(f"_{split}.tfrecord")]
        block: dict[str, Any] = {
            "data_files": [_relative(p, config_dir) for p in records],
            "meta_data_file": _relative(meta_file, config_dir),
        }
        if split == "train":
            # The default, written out: the run stops when one pass is done,
            # even before train_steps.
            block["num_epochs"] = 1
        else:
            block["shuffle"] = False
        blocks[split] = {kind: block}
    return blocks


def blocks_yaml(paths: list[Path], config_dir: Path) -> str:
    """pipeline_blocks as the YAML a user pastes into an experiment file in config_dir."""
    text: str = yaml.safe_dump(
        pipeline_blocks(paths, config_dir), sort_keys=False, default_flow_style=None, width=10000
    )
    return text
