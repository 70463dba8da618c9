"""`plxgen explain CONFIG`: the model as a table of layers, and as a picture.

The compiler never imports TensorFlow. explain compiles the config, runs the
script's own `build_model` in a child Python process (the same interpreter,
so TensorFlow must be installed: the `train` extra) and prints what Keras
built: each layer's name, type, output shape and parameter count.

The input shapes are the train pipeline's, as the script sees them, which
needs the train data (`plxgen data ...`); `--input-shape H,W,C` gives the
shape of the `image` feature instead (float32, after the feature processors).

`--png FILE` draws the graph: with `keras.utils.plot_model` when pydot and
Graphviz's `dot` are installed, else with Pillow (which TensorBoard, of the
`train` extra, already installs): one box per layer, top to bottom, arrows
from each layer's inputs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plxgen.errors import UserError
from plxgen.compiler.literals import comment

# Runs in the child process: argv = script, input shape (JSON or ""), png path
# for plot_model (or ""), result file.
_DRIVER = r"""
import importlib.util, json, os, sys, shutil
script, shape, png, result = sys.argv[1:5]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
spec = importlib.util.spec_from_file_location("explained_model", script)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
tf, keras = mod.tf, mod.keras

def fail(message):
    with open(result, "w") as f:
        json.dump({"error": message}, f)
    sys.exit(0)

try:
    if shape:
        features = {"image": tf.TensorSpec([None, *json.loads(shape)], tf.float32)}
    else:
        features = mod.train_dataset(seed=0).element_spec[0]
except mod.RunError as error:
    fail(f"{error} (or give --input-shape)")
try:
    model = mod.build_model(features)
except ValueError as error:
    fail("the model does not fit the data: " + (str(error).strip().splitlines() or [""])[0])

def shape_of(tensor):
    if isinstance(tensor, (list, tuple)):
        return [shape_of(t) for t in tensor]
    return [None if d is None else int(d) for d in tensor.shape]

layers = []
for layer in model.layers:
    inbound = []
    for node in layer._inbound_nodes:
        inbound += [p.operation.name for p in node.parent_nodes]
    layers.append({
        "name": layer.name,
        "type": type(layer).__name__,
        "shape": shape_of(layer.output),
        "params": int(layer.count_params()),
        "inputs": inbound,
    })
drawn = False
if png and shutil.which("dot"):
    try:
        import pydot  # noqa: F401
    except ImportError:
        pass
    else:
        keras.utils.plot_model(model, to_file=png, show_shapes=True, show_layer_names=True)
        drawn = True
trainable = sum(int(tf.size(w)) for w in model.trainable_weights)
total = int(model.count_params())
with open(result, "w") as f:
    json.dump({"name": model.name, "layers": layers, "trainable": trainable,
               "total": total, "drawn": drawn}, f)
"""


@dataclass(frozen=True)
class Layer:
    """One row of the table."""

    name: str
    type: str
    shape: Any
    params: int
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class Summary:
    """What Keras built for a config."""

    name: str
    layers: tuple[Layer, ...]
    trainable: int
    total: int
    drawn: bool


def summarize(
    config: Path,
    sets: list[str],
    input_shape: list[int] | None,
    png: Path | None,
) -> Summary:
    """Compile the config and build its model in a child Python process."""
    from plxgen.compiler import compile_config

    with tempfile.TemporaryDirectory(prefix="plxgen-explain-") as folder:
        script = Path(folder) / "model.py"
        script.write_text(compile_config(config, script, sets), encoding="utf-8")
        result = Path(folder) / "result.json"
        shape = json.dumps(input_shape) if input_shape else ""
        keras_png = str(png.resolve()) if png else ""
        try:
            child = subprocess.run(
                [sys.executable, "-c", _DRIVER, str(script), shape, keras_png, str(result)],
                capture_output=True,
                text=True,
                timeout=600,
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise UserError("building the model took longer than 10 minutes") from None
        if not result.exists():
            lines = [line for line in child.stderr.splitlines() if line.strip()]
            last = lines[-1] if lines else f"exit status {child.returncode}"
            if "No module named 'tensorflow'" in child.stderr:
                raise UserError(
                    "explain builds the model with TensorFlow, which is not installed",
                    'pip install "plxgen[train]"',
                )
            raise UserError(f"building the model failed: {comment(last)}")
        data = json.loads(result.read_text(encoding="utf-8"))
    if "error" in data:
        raise UserError(comment(data["error"]))
    layers = tuple(
        Layer(row["name"], row["type"], row["shape"], row["params"], tuple(row["inputs"]))  # fmt: skip
        for row in data["layers"]
    )
    return Summary(data["name"], layers, data["trainable"], data["total"], data["drawn"])  # fmt: skip


def parse_shape(text: str) -> list[int]:
    """`--input-shape 28,28,1` as [28, 28, 1]; UserError unless positive integers."""
    try:
        shape = [int(d) for d in text.split(",")]
    except ValueError:
        shape = []
    if not shape or min(shape) < 1:
        raise UserError(
            f"--input-shape {comment(text)!r}: expected positive integers such as 28,28,1"
        )
    return shape


def _shape(shape: Any) -> str:
    if shape and isinstance(shape[0], list):
        return ", ".join(_shape(s) for s in shape)
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _chain(summary: Summary) -> bool:
    """Whether every layer takes exactly the previous one (a Sequential-like graph)."""
    layers = summary.layers
    return all(
        layer.inputs == ((layers[i - 1].name,) if i else ())
        for i, layer in enumerate(layers)
    )


def table(summary: Summary) -> str:
    """The layer table, as plain text."""
    header = ["layer", "type", "output shape", "params"]
    chain = _chain(summary)
    if not chain:
        header.append("inputs")
    rows = [header]
    for layer in summary.layers:
        row = [layer.name, layer.type, _shape(layer.shape), f"{layer.params:,}"]
        if not chain:
            row.append(", ".join(layer.inputs))
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for n, row in enumerate(rows):
        cells = [
            cell.rjust(widths[i]) if i == 3 else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    frozen = summary.total - summary.trainable
    lines.append("")
    lines.append(
        f"model {summary.name}: {len(summary.layers)} layers, {summary.total:,} parameters "
        f"({summary.trainable:,} trainable, {frozen:,} non-trainable)"
    )
    return "\n".join(lines) + "\n"


def draw(summary: Summary, path: Path) -> None:
    """A PNG of the graph with Pillow: boxes top to bottom, arrows from the inputs."""
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        raise UserError(
            "--png needs Pillow (or pydot and Graphviz for keras.utils.plot_model)",
            'pip install "plxgen[train]"',
        ) from None
    font = ImageFont.load_default(size=14)
    pad, gap, margin, lane = 8, 28, 20, 14
    texts = [
        (f"{layer.name} ({layer.type})", f"{_shape(layer.shape)}   {layer.params:,} params")  # fmt: skip
        for layer in summary.layers
    ]
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    line_h = int(max(measure.textbbox((0, 0), "Ag(", font=font)[3], 14)) + 4
    box_w = max(int(measure.textlength(t, font=font)) for pair in texts for t in pair)
    box_w += 2 * pad
    box_h = 2 * line_h + 2 * pad
    index = {layer.name: i for i, layer in enumerate(summary.layers)}
    skips = [
        (index[src], i)
        for i, layer in enumerate(summary.layers)
        for src in layer.inputs
        if src in index and index[src] != i - 1
    ]
    width = 2 * margin + box_w + lane * (len(skips) + 1)
    height = 2 * margin + len(texts) * box_h + (len(texts) - 1) * gap
    image = Image.new("RGB", (width, height), "white")
    pen = ImageDraw.Draw(image)
    left = margin

    def top(i: int) -> int:
        return margin + i * (box_h + gap)

    def arrow_down(x: int, y0: int, y1: int) -> None:
        pen.line([(x, y0), (x, y1)], fill="black", width=2)
        pen.polygon([(x - 5, y1 - 8), (x + 5, y1 - 8), (x, y1)], fill="black")

    for i, (first, second) in enumerate(texts):
        y = top(i)
        fill = "#e8f0fe" if summary.layers[i].type != "InputLayer" else "#fef7e0"
        pen.rectangle([left, y, left + box_w, y + box_h], fill=fill, outline="black")
        pen.text((left + pad, y + pad), first, fill="black", font=font)
        pen.text((left + pad, y + pad + line_h), second, fill="#444444", font=font)
        layer = summary.layers[i]
        if i and layer.inputs and summary.layers[i - 1].name in layer.inputs:
            arrow_down(left + box_w // 2, y - gap, y)
    for n, (src, dst) in enumerate(skips):
        x = left + box_w + lane * (n + 1)
        y0, y1 = top(src) + box_h // 2, top(dst) + box_h // 2
        pen.line([(left + box_w, y0), (x, y0), (x, y1), (left + box_w, y1)], fill="#1a73e8", width=2)  # fmt: skip
        tip = left + box_w
        pen.polygon([(tip + 8, y1 - 5), (tip + 8, y1 + 5), (tip, y1)], fill="#1a73e8")
    try:
        image.save(path, format="PNG")
    except OSError as exc:
        raise UserError(
            f"cannot write {comment(str(path))}: {exc.strerror or exc}"
        ) from None
