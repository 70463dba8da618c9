"""`plxgen init [NAME]`: a starter experiment file that editors check as you type.

The file starts with yaml-language-server's modeline, pointing at the schema
written beside it (or at `--schema URL`), so VS Code (Red Hat's YAML
extension), Neovim, Helix and other yaml-language-server clients complete
keys and layer names and show their documentation. It compiles as written
and trains on what `plxgen data digits -o data/digits` makes.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from plxgen.errors import UserError
from plxgen.compiler.literals import comment
from plxgen.compiler.write import regular, write_atomic

SCHEMA_FILE = "experiment.schema.json"
MODELINE = "# yaml-language-server: $schema="

_STARTER = """\
{modeline}
# A plxgen experiment file (Polyaxon 2017 format). Next steps:
#   plxgen data digits -o {data_shell}
#   plxgen compile {config} -o {script}
#   python {script}
#   tensorboard --logdir {logdir}
# Every key is documented in the schema above: hover over it in your editor.
version: 1

project:
  name: {name}
  description: A small convolutional network on handwritten digits.

settings:
  logging:
    level: INFO

environment:
  run_config:
    tf_random_seed: 1  # runs with a seed repeat exactly
    save_summary_steps: 50  # TensorBoard points every 50 steps
    save_checkpoints_steps: 100

model:
  classifier:
    loss:
      SoftmaxCrossEntropy:
    optimizer:
      Adam:
        learning_rate: 0.001
    metrics:
      - Accuracy
    one_hot_encode: true
    n_classes: 10
    graph:
      input_layers: image  # the feature the data pipeline provides
      layers:
        - Conv2D: {{filters: 16, kernel_size: 5, padding: same, activation: relu}}
        - MaxPooling2D: {{pool_size: 2}}
        - Flatten:
        - Dense: {{units: 10}}  # logits, one per class

train:
  train_steps: 300  # optimizer steps over the whole run (it resumes)
  data_pipeline:
    TFRecordImagePipeline:
      batch_size: 64
      num_epochs: 50  # a run also ends here: 50 passes of 1,438 digits, about 1,120 steps
      data_files: [{train}]  # relative to this file
      meta_data_file: {meta}
      feature_processors:
        image:
          layers:
            - Cast: {{dtype: float32}}
            - Standardization:

eval:
  steps: null  # the whole eval split
  data_pipeline:
    TFRecordImagePipeline:
      batch_size: 128
      shuffle: false
      data_files: [{eval}]
      meta_data_file: {meta}
      feature_processors:
        image:
          layers:
            - Cast: {{dtype: float32}}
            - Standardization:
"""

_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def starter(name: str, schema: str, config: str) -> str:
    """The text of a starter experiment file named `config`, reading data/digits beside it."""
    folder = os.path.dirname(config)
    script = os.path.splitext(config)[0] + ".py"
    return _STARTER.format(
        modeline=MODELINE + schema,
        name=name,
        data_shell=comment(os.path.join(folder, "data", "digits")),
        config=comment(config),
        script=comment(script),
        logdir=comment(os.path.join(folder, name)),
        train=json.dumps("data/digits/digits_train.tfrecord"),
        eval=json.dumps("data/digits/digits_eval.tfrecord"),
        meta=json.dumps("data/digits/meta_data.json"),
    )


def _read(path: Path) -> str | None:
    try:
        with open(path, "rb") as f:  # bounded: a schema is far smaller
            return f.read(16_000_000).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def init(target: str, schema_url: str | None, force: bool) -> list[Path]:
    """Write the starter file (and the schema beside it, without --schema); return what was written."""
    config = Path(target if target.endswith((".yaml", ".yml")) else f"{target}.yaml")
    name = config.stem
    if not _NAME.fullmatch(name):
        raise UserError(
            f"{comment(name)!r} cannot be a project name",
            "use only letters, digits, `_`, `.` and `-`",
        )
    if schema_url is not None and not schema_url.isprintable():
        # It is written into the modeline comment: a newline would start new YAML lines.
        raise UserError(
            f"--schema {comment(schema_url)!r} holds a control character",
            "pass the URL or path on one line; percent-encode a character it must hold",
        )
    if regular(config) and not force:
        raise UserError(
            f"{comment(str(config))} exists; not overwriting", "pass --force"
        )
    folder = config.parent
    if not folder.is_dir():
        raise UserError(f"no folder {comment(str(folder))}")
    written = []
    if schema_url is None:
        from plxgen.compiler.validate import editor_schema_text

        schema_path = folder / SCHEMA_FILE
        schema = editor_schema_text()  # the file as written: templates, operators
        # Checked before anything is written: a user's own file is never replaced.
        if regular(schema_path) and not force and _read(schema_path) != schema:
            raise UserError(
                f"{comment(str(schema_path))} exists and differs from plxgen's schema; not overwriting",
                "pass --force to replace it, or --schema URL to point at another",
            )
        write_atomic(schema_path, schema)
        written.append(schema_path)
        schema_url = SCHEMA_FILE  # yaml-language-server resolves it against the file
    text = starter(name, schema_url, str(config))
    write_atomic(config, text)
    written.insert(0, config)
    return written
