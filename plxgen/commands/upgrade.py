"""`plxgen upgrade FILE...`: rewrite older 2017 spellings into the canonical form.

The file is edited as text, at the positions the YAML parser reports, so
comments, blank lines, quoting and key order stay as they were. One rule is
applied at a time and the text parsed again, until none applies:

- `model: {model_type: classifier, loss: ...}` -> `model: {classifier: {loss: ...}}`
- `settings: {environment: ...}` -> a top-level `environment`
- a key the policy table of 2017 (plxgen.schema.legacy) renames, where it
  is written: `train: {steps: N}` -> `train: {train_steps: N}`,
  `LeakyReLU: {alpha: 0.2}` -> `LeakyReLU: {negative_slope: 0.2}`
- a layer's `regularizer` -> `kernel_regularizer` (the layer's only weight
  regularizer besides bias and activity, e.g. `embeddings_regularizer`)

Block style is rewritten; a rule that meets a flow mapping (`{...}`) or a
conflict (both spellings present) reports it instead of guessing.

Then each deliberate difference from 2017 that the file meets (a row of
docs/compatibility.md, by its key) is noted, whether or not a rule applied.
"""

from __future__ import annotations

import difflib
import json
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import yaml

from plxgen.errors import ConfigError, UserError, escape
from plxgen.compiler.literals import comment
from plxgen.compiler.load import SafeLoader, format_path, load_text
from plxgen.schema import legacy
from plxgen.schema.registry import MODEL_KINDS, METRICS
from plxgen.schema.registry.rl import KINDS as RL_KINDS

_NEITHER = ("bias_regularizer", "activity_regularizer")


@dataclass(frozen=True)
class Change:
    """One rewrite: the new text and what it did (one line for the user)."""

    text: str
    note: str


class Blocked(Exception):
    """A rule applies but cannot be done safely; the message says why."""


def _key(mapping: yaml.MappingNode, name: str) -> tuple[yaml.Node, yaml.Node] | None:
    for key, value in mapping.value:
        if isinstance(key, yaml.ScalarNode) and key.value == name:
            return key, value
    return None


def _mapping(node: yaml.Node | None) -> yaml.MappingNode | None:
    return node if isinstance(node, yaml.MappingNode) else None


def _last_line(node: yaml.Node) -> int:
    """The 0-based line where a node's own text ends (trailing comments excluded)."""
    if isinstance(node, yaml.ScalarNode) or node.flow_style or not node.value:
        end = node.end_mark
        return int(end.line) if end.column > 0 else int(end.line) - 1
    last = node.value[-1]
    return _last_line(last[1] if isinstance(node, yaml.MappingNode) else last)


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _indent(line: str, by: int) -> str:
    return line if not line.strip() else " " * by + line


def _dedent(line: str, by: int) -> str:
    if not line.strip():
        return line.lstrip(" ")
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(by, spaces) :]


def _block(node: yaml.MappingNode, where: str) -> None:
    if node.flow_style:
        raise Blocked(f"{where} is written in flow style ({{...}}); rewrite it in block style first")  # fmt: skip


def _model_type(root: yaml.MappingNode, text: str) -> Change | None:
    found = _key(root, "model")
    model = _mapping(found[1]) if found else None
    entry = _key(model, "model_type") if model else None
    if model is None or entry is None:
        return None
    key, value = entry
    kind = value.value if isinstance(value, yaml.ScalarNode) else None
    if kind not in MODEL_KINDS:
        raise Blocked(f"model.model_type must be one of {', '.join(MODEL_KINDS)}, not {kind!r}")  # fmt: skip
    if any(_key(model, k) for k in MODEL_KINDS):
        raise Blocked("model has both model_type and a kind key; keep one by hand")
    _block(model, "model")
    lines = _lines(text)
    type_line = key.start_mark.line
    if _last_line(value) != type_line or lines[type_line][: key.start_mark.column].strip():  # fmt: skip
        raise Blocked("model.model_type must be on a line of its own")
    rest = lines[type_line][value.end_mark.column :].strip()
    comment = f"  {rest}" if rest.startswith("#") else ""
    fields = [(k, v) for k, v in model.value if k is not key]
    column = key.start_mark.column
    head = f"{' ' * column}{kind}:{comment}\n"
    if not fields:
        lines[type_line] = head.rstrip("\n") + " {}\n"
        return Change("".join(lines), f"model.model_type: {kind} -> model.{kind}")
    first, last = fields[0][0].start_mark.line, _last_line(fields[-1][1])
    start, end = min(first, type_line), max(last, type_line)
    out = lines[:start] + [head]
    out += [_indent(lines[n], 2) for n in range(start, end + 1) if n != type_line]
    out += lines[end + 1 :]
    return Change("".join(out), f"model.model_type: {kind} -> model.{kind}")


def _settings_environment(root: yaml.MappingNode, text: str) -> Change | None:
    found = _key(root, "settings")
    settings = _mapping(found[1]) if found else None
    entry = _key(settings, "environment") if settings else None
    if found is None or settings is None or entry is None:
        return None
    if _key(root, "environment"):
        raise Blocked("both settings.environment and environment are set; merge them by hand")  # fmt: skip
    _block(root, "the file")
    _block(settings, "settings")
    key, value = entry
    lines = _lines(text)
    first, last = key.start_mark.line, _last_line(value)
    if lines[first][: key.start_mark.column].strip():
        raise Blocked("settings.environment must start on a line of its own")
    while first > found[0].start_mark.line + 1 and lines[first - 1].lstrip().startswith("#"):  # fmt: skip
        first -= 1  # the comments just above it move with it
    moved = [_dedent(line, key.start_mark.column) for line in lines[first : last + 1]]
    if not moved[-1].endswith("\n"):
        moved[-1] += "\n"
    settings_key = found[0]
    if len(settings.value) == 1:  # settings held only the environment: it becomes it
        start = settings_key.start_mark.line
        after = lines[start][settings_key.end_mark.column :].strip().lstrip(":").strip()
        kept = (
            [f"{after}\n"] if after.startswith("#") else []
        )  # the comment on `settings:`
        kept += [
            _dedent(line, key.start_mark.column) for line in lines[start + 1 : first]
        ]
        out = lines[:start] + kept + moved + lines[last + 1 :]
    else:
        end = _last_line(settings)
        kept = lines[:first] + lines[last + 1 : end + 1]
        out = kept + ["\n"] + moved + lines[end + 1 :]
    return Change("".join(out), "settings.environment -> environment")


def _node(root: yaml.Node, path: tuple[str | int, ...]) -> yaml.Node | None:
    """The node at a path of the document's data (mapping keys and list indices)."""
    node: yaml.Node | None = root
    for part in path:
        if isinstance(part, int) and isinstance(node, yaml.SequenceNode):
            node = node.value[part] if part < len(node.value) else None
        elif isinstance(part, str) and isinstance(node, yaml.MappingNode):
            found = _key(node, part)
            node = found[1] if found else None
        else:
            return None
    return node


def _renamed_keys(root: yaml.MappingNode, text: str) -> Change | None:
    """The first key that the policy table renames (`train.steps` -> `train_steps`)."""
    try:
        data = yaml.load(text, Loader=SafeLoader)
    except yaml.YAMLError:
        return None
    for scope, name, path, args in legacy.objects(data):
        for key in args:
            rule = legacy.key_rule(scope, name, key)
            if rule is None or rule.action != "rename":
                continue
            where = format_path(path) or scope
            if rule.to in args:
                raise Blocked(f"{where} has both {key} and {rule.to}; keep one by hand")  # fmt: skip
            mapping = _mapping(_node(root, path))
            entry = _key(mapping, key) if mapping else None
            if entry is None:
                continue  # not where the document's text has it (an anchor, a merge key)
            return _rename(text, entry[0], rule.to, f"{where}.{key} -> {where}.{rule.to}")
    return None


def _rename(text: str, key: yaml.Node, new: str, note: str) -> Change:
    start, end = key.start_mark.index, key.end_mark.index
    return Change(text[:start] + new + text[end:], note)


@lru_cache(maxsize=1)
def _layer_regularizers() -> dict[str, list[str]]:
    """Per Keras layer, the weight regularizer arguments it takes."""
    from importlib import resources

    try:
        raw = (
            resources.files("plxgen.schemas").joinpath("keras_layers.json").read_text()
        )
    except (ModuleNotFoundError, FileNotFoundError):
        from plxgen.schema.build import SCHEMAS

        raw = (SCHEMAS / "keras_layers.json").read_text()
    layers = json.loads(raw)["layers"]
    return {
        name: [p for p in spec["properties"] if p.endswith("_regularizer")]
        for name, spec in layers.items()
    }


def _regularizer(root: yaml.MappingNode, text: str) -> Change | None:
    found = _key(root, "model")
    model = _mapping(found[1]) if found else None
    for _, kind in model.value if model else []:
        graph = _key(kind, "graph") if isinstance(kind, yaml.MappingNode) else None
        graph_node = _mapping(graph[1]) if graph else None
        layers = _key(graph_node, "layers") if graph_node else None
        if layers is None or not isinstance(layers[1], yaml.SequenceNode):
            continue
        for index, item in enumerate(layers[1].value):
            if not isinstance(item, yaml.MappingNode) or len(item.value) != 1:
                continue
            name_node, args = item.value[0]
            args_map = _mapping(args)
            entry = _key(args_map, "regularizer") if args_map else None
            if entry is None:
                continue
            name = name_node.value
            takes = _layer_regularizers().get(name, [])
            weights = [p for p in takes if p not in _NEITHER]
            target = "kernel_regularizer" if "kernel_regularizer" in takes else None
            if target is None and len(weights) == 1:
                target = weights[0]
            where = f"layers[{index}].{name}"
            if target is None:
                raise Blocked(f"{where}: cannot tell which weights `regularizer` meant ({', '.join(takes) or 'it takes none'})")  # fmt: skip
            if _key(args_map, target) if args_map else None:
                raise Blocked(f"{where} has both regularizer and {target}; keep one by hand")  # fmt: skip
            return _rename(text, entry[0], target, f"{where}.regularizer -> {target}")
    return None


RULES: list[Callable[[yaml.MappingNode, str], Change | None]] = [
    _model_type,
    _settings_environment,
    _renamed_keys,
    _regularizer,
]


def _names(data: Any) -> set[str]:
    """Every mapping key and string value in a document (for, if and tags included)."""
    found: set[str] = set()
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.update(k for k in node if isinstance(k, str))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            found.add(node)
    return found


def _has(data: Any, path: tuple[str, ...]) -> bool:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return False
        data = data[key]
    return True


def _huber_without_clip(data: Any) -> bool:
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            huber = node.get("HuberLoss", False)
            if huber is None or (isinstance(huber, dict) and "clip" not in huber):
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif node == "HuberLoss":
            return True
    return False


def _learning_rate_decay(data: Any, kinds: set[str]) -> bool:
    """An optimizer (not an exploration) decays its learning rate by one of these kinds."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("decay_type") in kinds and "exploration_rate" not in node:
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _shuffled(data: Any) -> bool:
    """The train pipeline shuffles (its default)."""
    pipeline = (
        data.get("train", {}).get("data_pipeline") if isinstance(data, dict) else None
    )
    if not isinstance(pipeline, dict) or len(pipeline) != 1:
        return False
    (spec,) = pipeline.values()
    return not isinstance(spec, dict) or spec.get("shuffle", True) is not False


# Metrics that threshold scores, which 2017 computed on the predicted class:
# those that take binary or one-hot labels but never class indices.
_BINARY_METRICS = {
    name
    for name, entry in METRICS.items()
    if "binary" in entry.labels and "sparse" not in entry.labels
}


def _classifier_metrics(data: Any) -> set[str]:
    """The names of the classifier's metrics (bare or as mappings)."""
    model = data.get("model") if isinstance(data, dict) else None
    classifier = model.get("classifier") if isinstance(model, dict) else None
    metrics = classifier.get("metrics") if isinstance(classifier, dict) else None
    names: set[str] = set()
    for item in metrics if isinstance(metrics, list) else []:
        if isinstance(item, str):
            names.add(item)
        elif isinstance(item, dict) and len(item) == 1:
            names.update(k for k in item if isinstance(k, str))
    return names


def _initializer_strings(data: Any, strings: set[str]) -> bool:
    """Some `*_initializer` is written as one of these strings."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if (
                    isinstance(key, str)
                    and key.endswith("_initializer")
                    and value in strings
                ):
                    return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


@dataclass(frozen=True)
class Difference:
    """A deliberate difference from 2017: docs/compatibility.md's row `key`."""

    key: str
    note: str
    meets: Callable[[Any, set[str]], bool]


DIFFERENCES = [
    Difference(
        "huber-clip",
        "HuberLoss without clip is Huber with clip 1.0 (2017: a plain squared error)",
        lambda data, names: _huber_without_clip(data),
    ),
    Difference(
        "binary-metrics",
        "the classifier's threshold metrics are Keras' on the scores at 0.5 "
        "(2017: on the predicted class, class != 0)",
        lambda data, names: bool(_classifier_metrics(data) & _BINARY_METRICS),
    ),
    Difference(
        "sensitivity-at-specificity",
        "SensitivityAtSpecificity is Keras' (the best sensitivity reaching the specificity)",
        lambda data, names: "SensitivityAtSpecificity" in names,
    ),
    Difference(
        "decay-crash",
        "polynomial_decay and piecewise_constant decay as tf.train documents (2017 raised TypeError)",
        lambda data, names: _learning_rate_decay(
            data, {"polynomial_decay", "piecewise_constant"}
        ),
    ),
    Difference(
        "shuffle-buffer",
        "the shuffle buffer holds min_after_dequeue + 3 * batch_size records "
        "(2017 read through a 256-record queue)",
        lambda data, names: _shuffled(data),
    ),
    Difference(
        "embedding-clip-rows",
        "clip_embed_gradients clips the embedding gradient with the rows of one id summed",
        lambda data, names: "Embedding" in names,
    ),
    Difference(
        "dqn-target",
        "the target network follows the online one (2017 never updated it)",
        lambda data, names: bool(names & set(RL_KINDS)),
    ),
    Difference(
        "initializer-strings",
        "an initializer written truncated_normal is Keras' (stddev 0.05); "
        "2017 read it as TruncatedNormal (stddev 1.0)",
        lambda data, names: _initializer_strings(data, {"truncated_normal"}),
    ),
    Difference(
        "run-type",
        "settings.run_type is informational: compile --target slurm|kubernetes writes a launcher",
        lambda data, names: _has(data, ("settings", "run_type")),
    ),
]


def differences(text: str) -> list[str]:
    """A note for each deliberate difference from 2017 that a file meets."""
    try:
        data = yaml.load(text, Loader=SafeLoader)
    except yaml.YAMLError:
        return []
    names = _names(data)
    return [
        f"[{d.key}] {d.note} (docs/compatibility.md)"
        for d in DIFFERENCES
        if d.meets(data, names)
    ]


def upgrade_text(text: str, file: str) -> tuple[str, list[str]]:
    """The upgraded text and one note per change; UserError when a rule is blocked."""
    notes: list[str] = []
    for _ in range(1000):  # every rule removes one old spelling; a file has fewer
        load_text(text, file)  # located diagnostics for a file YAML cannot read
        root = yaml.compose(text, Loader=SafeLoader)
        if not isinstance(root, yaml.MappingNode):
            return text, notes
        for rule in RULES:
            try:
                change = rule(root, text)
            except Blocked as exc:
                raise UserError(f"{file}: cannot upgrade: {exc}") from None
            if change is not None:
                text = change.text
                notes.append(change.note)
                break
        else:
            return text, notes
    raise UserError(f"{file}: cannot upgrade: the rules do not converge")


def upgrade_file(path: Path, write: bool) -> bool:
    """Print the diff (or, with write, rewrite the file) and notes; whether it changes."""
    from plxgen.compiler import check
    from plxgen.compiler.load import MAX_FILE_BYTES
    from plxgen.compiler.write import write_atomic

    from plxgen.compiler.write import regular

    shown = comment(str(path))
    regular(path)  # a FIFO would block open(), a device never ends: refused unopened
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
        # Checked before decoding: a cut-off file must never be rewritten as the whole.
        if len(raw) > MAX_FILE_BYTES:
            raise UserError(
                f"{shown} is larger than {MAX_FILE_BYTES} bytes; not upgrading it",
                "an experiment file is far smaller; is this the right file?",
            )
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise UserError(f"cannot read {shown}: {reason}") from None
    new, notes = upgrade_text(text, shown)
    for note in differences(new):
        print(escape(f"{shown}: note: {note}"), file=sys.stderr)
    if new == text:
        print(f"{shown}: already canonical", file=sys.stderr)
        return False
    for note in notes:
        print(escape(f"{shown}: {note}"), file=sys.stderr)
    try:
        check(load_text(new, shown))
    except ConfigError as exc:
        count = len(exc.diagnostics)
        print(
            f"{shown}: note: {count} problem{'s' if count != 1 else ''} left that upgrade "
            f"does not fix; run plxgen validate {shown}",
            file=sys.stderr,
        )
    if write:
        write_atomic(path, new)
        print(f"wrote {shown}", file=sys.stderr)
    else:
        old_lines, new_lines = text.splitlines(keepends=True), new.splitlines(
            keepends=True
        )
        sys.stdout.write(
            "".join(difflib.unified_diff(old_lines, new_lines, f"{shown} (on disk)", f"{shown} (upgraded)"))  # fmt: skip
        )
    return True
