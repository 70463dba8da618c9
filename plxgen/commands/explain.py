"""`plxgen explain CONFIG`: the model as a table of layers, and as a picture.

The compiler never imports TensorFlow. explain compiles the config, runs the
script's own `build_model` in a child Python process (the same interpreter,
so TensorFlow must be installed: the `train` extra) and prints what Keras
built: each layer's name, type, output shape and parameter count.

The input shapes are the train pipeline's, as the script sees them, which
needs the train data (`plxgen data ...`); `--input-shape H,W,C` gives the
shape of every input the graph reads instead (float32, after the feature
processors: the `image`, a CSV's `x`). An agent's network is built as its
script builds it, from its environment's observations. Several configs (and
each combination of a matrix) are built in one child process: TensorFlow is
imported once. A failure of the builder itself is a bug (exit 123).

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
from typing import Any, Iterator

from plxgen.errors import UserError
from plxgen.compiler.literals import comment

# Runs in the child process: argv = a JSON file of jobs ({script, shape, png,
# model_dir} each), the result file (a JSON list: a summary, {"error": ...} for
# a problem of the config or its data, or {"bug": traceback} for anything else).
# TensorFlow is imported once for all the jobs.
_DRIVER = r"""
import importlib.util, json, os, sys, shutil, traceback
jobs_file, result = sys.argv[1:3]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


class Failed(Exception):
    pass


def shape_of(tensor):
    if isinstance(tensor, (list, tuple)):
        return [shape_of(t) for t in tensor]
    return [None if d is None else int(d) for d in tensor.shape]


def supervised(mod, shape):
    tf = mod.tf
    if shape:
        class Shaped(dict):
            # Every input the graph reads (`image`, a CSV's `x`, ...) gets the shape.
            def __missing__(self, name):
                return tf.TensorSpec([None, *shape], tf.float32)

        features = Shaped()
    else:
        try:
            features = mod.train_dataset(seed=0).element_spec[0]
        except mod.RunError as error:
            raise Failed(f"{error} (or give --input-shape)") from None
    try:
        return mod.build_model(features)
    except ValueError as error:
        first = (str(error).strip().splitlines() or [""])[0]
        raise Failed("the model does not fit the data: " + first) from None


def agent_network(mod, shape, model_dir):
    # An agent's network takes its environment's observations: the agent is
    # built as the script builds it, and its first network shown.
    if shape:
        raise Failed("--input-shape is for models fed by a data pipeline; an agent's "
                     "network takes its environment's observations: run without it")
    try:
        agent = mod.Agent(mod.make_env(), model_dir, 0)
    except mod.RunError as error:
        raise Failed(str(error)) from None
    keras = mod.keras
    return next(v for v in vars(agent).values() if isinstance(v, keras.Model))


def explain(job):
    spec = importlib.util.spec_from_file_location("explained_model", job["script"])
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    tf, keras = mod.tf, mod.keras
    keras.backend.clear_session()  # layer names as in a script of its own: dense, dense_1
    if hasattr(mod, "Agent"):
        model = agent_network(mod, job["shape"], job["model_dir"])
    else:
        model = supervised(mod, job["shape"])
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
    png = job["png"]
    if png and shutil.which("dot"):
        try:
            import pydot  # noqa: F401
        except ImportError:
            pass
        else:
            keras.utils.plot_model(model, to_file=png, show_shapes=True, show_layer_names=True)
            drawn = True
    trainable = sum(int(tf.size(w)) for w in model.trainable_weights)
    return {"name": model.name, "layers": layers, "trainable": trainable,
            "total": int(model.count_params()), "drawn": drawn}


with open(jobs_file) as f:
    jobs = json.load(f)
results = []
for job in jobs:
    try:
        results.append(explain(job))
    except Failed as error:
        results.append({"error": str(error)})
    except Exception:
        results.append({"bug": traceback.format_exc()})
with open(result, "w") as f:
    json.dump(results, f)
"""


class ExplainBug(Exception):
    """The model builder failed on a config that compiled: a bug in plxgen (exit 123)."""


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
    ((_, found, problem), *more) = summarize_all([config], sets, input_shape, png)
    if found is None:
        raise UserError(problem)
    return found


def _scripts(
    configs: list[Path], sets: list[str], folder: Path
) -> Iterator[tuple[str, Path]]:
    """Each config compiled into folder: (its title, the script); a matrix, one per combination."""
    from plxgen.compiler import Target, compile_target
    from plxgen.compiler.matrix import INDEX_FILE

    for n, config in enumerate(configs):
        shown = comment(str(config))
        where = folder / f"config_{n}"
        where.mkdir()
        outputs = compile_target(Target(config, where / "model.py", where), sets)
        scripts = [o for o in outputs if o.path is not None and o.path.name != INDEX_FILE]
        for output in scripts:
            assert output.path is not None
            output.path.write_text(output.text, encoding="utf-8")
            title = shown if len(scripts) == 1 else f"{shown} ({output.path.name})"
            yield title, output.path


def summarize_all(
    configs: list[Path],
    sets: list[str],
    input_shape: list[int] | None,
    png: Path | None = None,
) -> list[tuple[str, Summary | None, str]]:
    """Each model's title (its config; for a matrix, also its script), its
    Summary (or None and what is wrong with the config or its data), all
    built in one child Python process, so TensorFlow is imported once.

    A failure that is not the config's (the builder itself broke) raises
    ExplainBug with the child's traceback.
    """
    with tempfile.TemporaryDirectory(prefix="plxgen-explain-") as folder:
        jobs: list[dict[str, Any]] = []
        titles = []
        for title, script in _scripts(configs, sets, Path(folder)):
            n = len(jobs)
            titles.append(title)
            jobs.append({
                "script": str(script),
                "shape": input_shape or [],
                "png": str(png.resolve()) if png else "",
                "model_dir": str(Path(folder) / f"run_{n}"),
            })  # fmt: skip
        jobs_file = Path(folder) / "jobs.json"
        jobs_file.write_text(json.dumps(jobs), encoding="utf-8")
        result = Path(folder) / "result.json"
        try:
            child = subprocess.run(
                [sys.executable, "-c", _DRIVER, str(jobs_file), str(result)],
                capture_output=True,
                text=True,
                timeout=600,
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise UserError("building the model took longer than 10 minutes") from None
        if not result.exists():
            if "No module named 'tensorflow'" in child.stderr:
                raise UserError(
                    "explain builds the model with TensorFlow, which is not installed",
                    'pip install "plxgen[train]"',
                )
            raise ExplainBug(
                f"the model builder exited {child.returncode}:\n{child.stderr}"
            )
        data = json.loads(result.read_text(encoding="utf-8"))
    found: list[tuple[str, Summary | None, str]] = []
    for title, item in zip(titles, data):
        if "bug" in item:
            raise ExplainBug(f"building the model of {title} failed:\n{item['bug']}")
        if "error" in item:
            found.append((title, None, comment(item["error"])))
            continue
        layers = tuple(
            Layer(row["name"], row["type"], row["shape"], row["params"], tuple(row["inputs"]))  # fmt: skip
            for row in item["layers"]
        )
        summary = Summary(item["name"], layers, item["trainable"], item["total"], item["drawn"])  # fmt: skip
        found.append((title, summary, ""))
    return found


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
