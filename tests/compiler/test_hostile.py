"""No config value can inject code into a generated script.

Every free-text place of the experiment file (found by walking the committed
JSON Schema) is filled with hostile text in a copy of
`generated_examples/lenet_digits.yaml`, written as YAML with yaml.safe_dump.
Each result is either a clean rejection (ConfigError, one line per
diagnostic) or a script whose code is the code of the same config with a
harmless placeholder there: the same variables, attributes, calls, imports and
definitions, the same shape once strings and variable names are masked, and
the hostile text back as an equal constant.

black is most of the cost of a compile (about 0.3 s), so each text is also
checked on the rendered, not yet formatted source, which has the same syntax
tree; every place is compiled in full (compile_config, black included) with
all the hostile texts at once, and with a few random texts per kind of place.
With `-m slow`: many more random texts, and a hostile script that trains.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import posixpath
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plxgen.cli import main
from plxgen.compiler import apply_overrides, compile_config, lower_document
from plxgen.errors import ConfigError
from plxgen.compiler.literals import comment
from plxgen.compiler.load import MAX_STRING, load_text
from plxgen.compiler.render import render
from plxgen.compiler.validate import schema_text
from plxgen.compiler.write import HEADER_LINES, state
from tests.conftest import ROOT, plxgen, train

BASE = ROOT / "generated_examples" / "lenet_digits.yaml"
PLACEHOLDER = "plxgen_placeholder"
# A place in the schema: its keys, "[]" for a list item, "*" for a member of a
# family (the model kind, a layer, ...), "?" for any key (a feature).
Place = tuple[str, ...]

HOSTILE = [
    "",
    " ",
    "'",
    '"',
    "'''",
    '"""',
    "\\",
    '\\"',
    'x"""\nimport os\nos.system("x")\n"""',
    "x'''\nimport os\n'''",
    "a\nb",
    "a\rb",
    "a\r\nb",
    "a\u2028b\u2029c",
    "a\x85b",
    "a\x00b",
    "a\tb\x0bc\x0c",
    "a\x1bb\x7f",
    # `{{ }}` and `{% %}` are expressions of the file format, evaluated in a
    # sandbox before validation: tests/compiler/test_front.py tries hostile ones.
    "{# comment #}",
    "__import__('os').system('x')",
    '"); import os; ("',
    "'); import os; ('",
    '" + __import__("os").getcwd() + "',
    "# comment",
    "\n# comment\nimport os\n",
    "x\\\nimport os",
    "\\N{BULLET}\\x41\\u0041",
    "%(message)s",
    "%s %d",
    "%(asctime)s %(nope)s",
    "%(message)999999999s",
    "%",
    "*/ /* -->",
    "../../etc/passwd",
    "/etc/passwd",
    "a/b",
    "..",
    "C:\\Windows",
    "$(rm -rf /) `id` ${HOME}",
    "\U0001f600\U00010348\U000e0001",
    "\ufeff\u202eevil",
    "\ud800",
    "tf",
    "image",
    "x",
    "__builtins__",
    "None",
    "  indented\n    more\n",
    "trailing  \n  ",
    'ends with a quote"',
    "ends with a backslash\\",
    "x" * 1000,
    "y" * MAX_STRING,
    "z" * (MAX_STRING + 1),
    "\n" * 50,
]
# Everything at once (under the length limit): one full compile per place.
EVERYTHING = "".join(t for t in HOSTILE if len(t) < 1000 and t != "\ud800")
TEXT = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=40),
    st.builds(lambda a, b: a + b, st.sampled_from(HOSTILE), st.text(max_size=10)),
)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


# ------------------------------------------------------------------ schema


def _places(node: Any, defs: dict[str, Any], place: Place, seen: frozenset[str]) -> Iterator[Place]:  # fmt: skip
    """Every place in the schema that holds free text (not an enum or a const)."""
    if not isinstance(node, dict):
        return
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            yield from _places(defs[name], defs, place, seen | {name})
        return
    types = node.get("type")
    types = types if isinstance(types, list) else [types]
    if "string" in types and "enum" not in node and "const" not in node:
        yield place
    family = "propertyNames" in node
    for key, sub in node.get("properties", {}).items():
        yield from _places(sub, defs, place + ("*" if family else key,), seen)
    if isinstance(node.get("additionalProperties"), dict):
        yield from _places(node["additionalProperties"], defs, place + ("?",), seen)
    if "items" in node:
        yield from _places(node["items"], defs, place + ("[]",), seen)
    for branch in [*node.get("anyOf", []), *node.get("allOf", [])]:
        yield from _places(branch, defs, place, seen)
    # The supervised train/eval sit under the RL switch's `else` (the base file is
    # supervised; RL files have their own tests in tests/scripts/test_rl.py).
    if isinstance(node.get("else"), dict):
        yield from _places(node["else"], defs, place, seen)


@lru_cache(maxsize=1)
def string_places() -> list[Place]:
    """The free-text places of the experiment schema (model kinds and layers folded)."""
    schema = json.loads(schema_text())
    places = set(_places(schema, schema["definitions"], (), frozenset()))
    # `matrix` and `declarations` feed expressions (tests/compiler/test_front.py), and
    # `launch` the launchers (tests/compiler/test_launchers.py), not the script.
    return sorted(p for p in places if p[0] not in ("matrix", "declarations", "launch"))


def placeholder(place: Place) -> str:
    """A harmless text for a place (a logging format needs a field)."""
    return f"%(message)s {PLACEHOLDER}" if place[-1] == "formatter" else PLACEHOLDER


def kind(place: Place) -> str:
    """Places of one kind behave alike (train/eval, the 18 resource amounts, ...)."""
    keys = [p for p in place if p not in ("[]", "*", "?")]
    if keys[0] == "environment":
        return "environment." + ("cluster" if "cluster" in keys else "resources")
    if keys[-1] == "name":
        return ".".join(keys[-2:])
    return keys[-1]


PLACES = string_places()
KINDS: dict[str, list[Place]] = {}
for _place in PLACES:
    KINDS.setdefault(kind(_place), []).append(_place)


# ----------------------------------------------------------------- filling


@lru_cache(maxsize=1)
def _base_yaml() -> str:
    return BASE.read_text()


@lru_cache(maxsize=1)
def _base_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(_base_yaml())
    return data


def _layer_args(layer: dict[str, Any]) -> dict[str, Any]:
    ((name, args),) = layer.items()
    if args is None:
        layer[name] = args = {}
    return args  # type: ignore[no-any-return]


# Minimal specs of the pipelines whose fields the base's TFRecordImagePipeline lacks.
_PIPELINE_SPECS: dict[str, dict[str, Any]] = {
    "NumpyPipeline": {"data_files": ["d.npz"], "features": ["image"]},
    "CsvPipeline": {"data_files": ["d.csv"], "label_column": "y"},
    "TFRecordSequencePipeline": {
        "data_files": ["d.tfrecord"],
        "meta_data_file": "m.json",
    },
    "ParallelTextPipeline": {"source_files": ["s.txt"], "target_files": ["t.txt"]},
    "TFRecordSourceSequencePipeline": {"files": ["f.tfrecord"]},
    # Its images reach the model as uint8: the base's Conv2D takes floats.
    "ImageCaptioningPipeline": {
        "files": ["f.tfrecord"],
        "feature_processors": {"image": {"layers": [{"Cast": {"dtype": "float32"}}]}},
    },
}


def _pipeline_kind(place: Place) -> str | None:
    """The pipeline kind that has the field at `place`, if the base's does not."""
    from plxgen.schema.registry import PIPELINES

    if (
        len(place) < 4
        or place[1] != "data_pipeline"
        or place[3] in PIPELINES["TFRecordImagePipeline"].params
    ):
        return None
    return next(kind for kind, entry in PIPELINES.items() if place[3] in entry.params)


def _switch_pipelines(data: dict[str, Any], place: Place, text: str) -> None:
    """Both sections read a pipeline kind that has the field at `place`."""
    kind = _pipeline_kind(place)
    if kind is None:
        return
    spec = copy.deepcopy(_PIPELINE_SPECS[kind])
    graph = data["model"]["classifier"]["graph"]
    if kind == "CsvPipeline":
        graph["input_layers"] = "x"
    elif kind in ("ParallelTextPipeline", "TFRecordSourceSequencePipeline"):
        graph["input_layers"] = "source"
    elif "features" in place:
        graph["input_layers"] = text
        spec["features"] = [text]
    for section in ("train", "eval"):
        data[section]["data_pipeline"] = {kind: copy.deepcopy(spec)}

def _generator(classifier: dict[str, Any]) -> dict[str, Any]:
    """The base classifier as an autoencoder of its input feature (for generator places)."""
    return {
        "loss": "MeanSquaredError",
        "optimizer": classifier["optimizer"],
        "encoder": {"input_layers": "image", "layers": [{"Flatten": None}, {"Dense": {"units": 8}}]},
        "decoder": {"layers": [{"Dense": {"units": 8}}, {"Dense": {"units": 784}}]},
    }  # fmt: skip


def fill(place: Place, text: str) -> dict[str, Any]:
    """The base config with `text` at `place` (parts it lacks are added).

    A name that another key refers to must exist, so `inbound_nodes` goes to
    layer 1 and layer 0 gets that name; `output_layers` names the last layer.
    """
    data = copy.deepcopy(_base_data())
    _switch_pipelines(data, place, text)
    layers = data["model"]["classifier"]["graph"]["layers"]

    section = next((s for s in ("encoder", "decoder") if s in place), None)
    if section or "bridge" in place:
        data["model"] = {"generator": _generator(data["model"]["classifier"])}
    if "bridge" in place:
        data["model"]["generator"]["bridge"] = {"LatentBridge": {"latent_dim": 2}}
    if "values" in place:  # Mean's: the one output whose values it averages
        data["model"]["classifier"]["metrics"] = [{"Mean": {}}]
    graph = section or ("encoder" if "bridge" in place else "graph")
    layers = data["model"][next(iter(data["model"]))][graph]["layers"]
    if "inbound_nodes" in place:
        _layer_args(layers[0])["name"] = text
    elif "output_layers" in place and (section or "graph") in place:
        _layer_args(layers[-1])["name"] = text
    elif place[-1] in ("output_layer", "values"):  # they name an output of the graph
        _layer_args(layers[-1])["name"] = text
    node: Any = data
    for i, step in enumerate(place):
        key: str | int
        if step == "[]":
            assert isinstance(node, list)
            key = 1 if place[i - 1] == "layers" and "inbound_nodes" in place else 0
            if not node:
                node.append(None)
        elif step in ("*", "?"):
            assert isinstance(node, dict) and node, place
            key = next(iter(node))  # the model kind, pipeline, layer or feature there
        else:
            assert isinstance(node, dict), place
            key = step
        if i == len(place) - 1:
            node[key] = text
            break
        child = node[key] if isinstance(key, int) or key in node else None
        if place[i + 1] in ("*", "?") and isinstance(child, str):
            child = node[key] = {child: {}}  # a bare name (`- Accuracy`) with arguments
        if place[i + 1] == "[]" and not isinstance(child, list):
            child = node[key] = []
        elif child is None:
            child = node[key] = {}
        node = child
    return data


def as_yaml(data: Any) -> str:
    return str(yaml.safe_dump(data, allow_unicode=False, width=10**9, sort_keys=False))


# --------------------------------------------------------------- checking


class Code:
    """The facts about a script's code that the tests compare."""

    def __init__(self, text: str) -> None:
        self.source = text
        self.tree = ast.parse(text)
        self.names: set[str] = set()
        self.args: set[str] = set()
        self.attributes: set[str] = set()
        self.calls: set[str] = set()
        self.imports: set[tuple[str | None, str, str | None]] = set()
        self.definitions: set[str] = set()
        self.constants: Counter[str] = Counter()
        self.shape: list[tuple[str, object]] = []  # the code, strings and names masked
        self.exact = True
        for node in ast.walk(self.tree):  # breadth first: the order is the tree's
            self.shape.append((type(node).__name__, _width(node)))
            if isinstance(node, ast.Name):
                self.names.add(node.id)
            elif isinstance(node, ast.arg):
                self.args.add(node.arg)
            elif isinstance(node, ast.Attribute):
                self.attributes.add(_dotted(node))
                self.shape.append(("attr", node.attr))
            elif isinstance(node, ast.Call):
                self.calls.add(_dotted(node.func))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                module = getattr(node, "module", None)
                self.imports.update((module, a.name, a.asname) for a in node.names)
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                self.definitions.add(node.name)
            elif isinstance(node, ast.keyword):
                self.shape.append(("keyword", node.arg))
            elif isinstance(node, ast.Constant):
                if isinstance(node.value, str):
                    self.constants[node.value] += 1
                else:
                    self.shape.append(("constant", repr(node.value)))


def _width(node: ast.AST) -> int:
    """How many children a node has where that can vary (with the types, the tree's shape)."""
    if isinstance(node, ast.Call):
        return len(node.args) * 1000 + len(node.keywords)
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return len(node.elts)
    if isinstance(node, ast.Dict):
        return len(node.keys)
    body = getattr(node, "body", None)
    return len(body) if isinstance(body, list) else -1


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return "NAME"  # variables are compared on their own
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return type(node).__name__


def assert_clean_rejection(error: ConfigError) -> None:
    """Every diagnostic is located, coded and on one line (plus an optional hint line)."""
    assert error.diagnostics
    for d in error.diagnostics:
        assert d.line >= 1 and d.col >= 1 and d.message and d.code
        first, *hint = d.format().split("\n")
        assert len(hint) <= 1 and all(h.startswith("  hint: ") for h in hint), d
        assert first.isprintable(), first


def _as_constants(place: Place, text: str) -> set[str]:
    """How `text` may appear as a constant: as written, or as a normalised path."""
    found = {text}
    if place == ("project", "name"):  # also the default model name, a root scope
        found.add(text.lstrip("_-") or "model")
    if place[-1] in ("data_files", "source_files", "target_files", "files", "[]", "meta_data_file", "path") and text:
        found.add(text if text.startswith("/") else posixpath.normpath(text))
    return found


def check_code(place: Place, text: str, got: Code, base: Code) -> None:
    """`got` is the baseline's code, with `text` only as data."""
    # A layer's variable is its name if that is a safe identifier, else layer_<i>.
    renamed = {
        n
        for n in got.names - base.names
        if n != text
        and not re.fullmatch(r"layer_[0-9]+_*|input(_[0-9]+)?", n)
        and n.rstrip("_") not in base.names
    }
    assert not renamed, renamed
    if text and base.exact:
        assert base.names - got.names <= {PLACEHOLDER}
        assert got.args == base.args
        assert got.attributes == base.attributes
        assert got.calls == base.calls
        assert got.imports == base.imports
        assert got.definitions == base.definitions
        assert got.shape == base.shape
    else:  # an empty text may leave out an optional part, or the base lacks the place
        assert got.args <= base.args
        assert got.attributes <= base.attributes
        assert got.calls <= base.calls
        assert got.imports <= base.imports
        assert got.definitions <= base.definitions
    wanted = base.constants[placeholder(place)]
    found = sum(got.constants[c] for c in _as_constants(place, text))
    assert found >= wanted, (found, wanted)


def check_script(place: Place, text: str, script: str, base: Code) -> None:
    """A complete script: its header, its code and its docstring."""
    lines = script.split("\n")
    assert all(line.startswith("# ") for line in lines[:HEADER_LINES])
    assert state(script) == "generated"
    got = Code(script)
    check_code(place, text, got, base)
    if place == ("project", "description") and text.strip():
        doc = ast.get_docstring(got.tree, clean=False)
        assert doc is not None and text.strip() in doc


_BASELINES: dict[Place, Code] = {}


def _render_data(data: dict[str, Any]) -> str:
    """load_text (YAML) -> validate -> lower -> render: the script before black."""
    doc = load_text(as_yaml(data), "c.yaml")
    return render(lower_document(doc, "c.yaml", ""))


def baseline(place: Place) -> Code:
    """The code with the placeholder at `place` (the base config's where that is refused).

    Rendered, not formatted: black keeps the syntax tree, so this is also the
    baseline of a compiled script.
    """
    if place not in _BASELINES:
        try:
            code = Code(_render_data(fill(place, placeholder(place))))
        except ConfigError:
            data = copy.deepcopy(_base_data())
            _switch_pipelines(data, place, placeholder(place))
            try:
                code = Code(_render_data(data))
            except ConfigError:  # a pipeline kind that does not compile
                code = Code(_render_data(copy.deepcopy(_base_data())))
            code.exact = False  # the text's own place is not in it
        _BASELINES[place] = code
    return _BASELINES[place]


def try_rendered(place: Place, text: str) -> bool:
    """Check `text` at `place` without black; True if it was accepted."""
    base = baseline(place)
    try:
        source = _render_data(fill(place, text))
    except ConfigError as error:
        assert_clean_rejection(error)
        return False
    if not _same_but_the_literal(place, text, source, base):
        check_code(place, text, Code(source), base)
    return True


def _same_but_the_literal(place: Place, text: str, source: str, base: Code) -> bool:
    """True if `source` is the baseline with each placeholder literal written for `text`.

    Sound only where the placeholder's literal occurs nowhere but as a literal
    (not inside a comment or another string): then the code is the same.
    """
    literal = repr(placeholder(place))
    if (
        not base.exact
        or base.source.count(literal) != base.constants[placeholder(place)]
    ):
        return False
    return source == base.source.replace(literal, repr(text))


def compile_data(data: Any, folder: Path, sets: list[str] | None = None) -> str:
    """compile_config of `data`, written as folder/c.yaml, for folder/train.py."""
    config = folder / "c.yaml"
    config.write_text(as_yaml(data), encoding="utf-8")
    return compile_config(config, folder / "train.py", sets or [])


def try_compiled(place: Place, text: str, folder: Path) -> bool:
    """Check `text` at `place` with compile_config (black included); True if accepted."""
    base = baseline(place)
    try:
        script = compile_data(fill(place, text), folder)
    except ConfigError as error:
        assert_clean_rejection(error)
        return False
    check_script(place, text, script, base)
    return True


# ------------------------------------------------------------------ tests

_IDS = [".".join(p) for p in PLACES]
_HYPOTHESIS: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
    ],
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


def test_the_schema_walk_finds_the_known_places() -> None:
    found = set(_IDS)
    for known in [
        "project.description",
        "project.name",
        "settings.logging.formatter",
        "settings.logging.path",
        "model.*.name",
        "model.*.graph.name",
        "model.*.graph.layers.[].*.name",
        "model.*.graph.layers.[].*.tags.[]",
        "model.*.graph.layers.[].*.inbound_nodes",
        "model.*.graph.layers.[].*.inbound_nodes.[]",
        "model.*.graph.output_layers",
        "model.*.graph.input_layers",
        "train.data_pipeline.*.data_files",
        "train.data_pipeline.*.data_files.[]",
        "train.data_pipeline.*.meta_data_file",
        "train.data_pipeline.*.name",
        "eval.data_pipeline.*.feature_processors.?.input_layers.[]",
        "environment.resources.cpu.requests",
        "environment.run_config.cluster.worker.[]",
    ]:
        assert known in found, known


@pytest.mark.parametrize("place", PLACES, ids=_IDS)
def test_placeholder_reaches_the_script(place: Place) -> None:
    """The placeholder compiles at every place but those that must name a feature or a host."""
    accepted = try_rendered(place, placeholder(place))
    # Delimiters are a few characters long: the placeholder is too long for them.
    delimiter = place[-1] in ("field_delim", "source_delimiter", "target_delimiter")
    # A decoder's input_layers only names the bridge's output: any name will do.
    feature = "input_layers" in place and "decoder" not in place
    assert accepted != (feature or "cluster" in place or delimiter)


@pytest.mark.parametrize("group", sorted(KINDS), ids=sorted(KINDS))
def test_hand_picked_strings(group: str) -> None:
    """Each hand-picked text at the places of a kind, in turn (without black)."""
    places = KINDS[group]
    for i, text in enumerate(HOSTILE):
        try_rendered(places[i % len(places)], text)


def _variants(text: str) -> list[str]:
    """`text`, then with less in it: what a stricter place may still accept."""
    plain = _CONTROL.sub("", text)
    no_slash = plain.replace("/", "")
    scope = "x" + re.sub(r"[^A-Za-z0-9_.>-]", "", text)  # a TensorFlow name scope
    return [text, plain, no_slash, no_slash.replace("%", "%%") + "%(message)s", scope]


# How much of EVERYTHING each kind of place takes: all of it (free text), without
# control characters (paths, informational names), as a logging format, or only
# the characters of a TensorFlow name scope (layer and model names); None: nothing
# (a place that must name a feature or a host).
_TAKES = {
    "description": 0, "environment.resources": 0, "formatter": 3, "tags": 1,
    "graph.name": 1, "data_pipeline.name": 1, "path": 1, "data_files": 1,
    "meta_data_file": 1, "layers.name": 4, "model.name": 4, "inbound_nodes": 4,
    "output_layers": 4, "project.name": None, "input_layers": None, "environment.cluster": None,
    # Pipeline fields: names, delimiters and columns are short; paths as data_files; the
    # record fields are free text.
    "features": None, "label": None, "label_feature": None, "label_column": None, "feature_columns": None,
    "field_delim": None, "files": 1, "source_files": 1, "target_files": 1, "source_field": 0,
    "target_field": 0, "source_delimiter": None, "target_delimiter": None, "image_field": 0,
    "caption_ids_field": 0, "caption_tokens_field": 0,

    "encoder.name": 1, "decoder.name": 1,
    # A metric's or a loss's name is its key in metrics.json: a Python identifier; an
    # optimizer's and a bridge's are TensorFlow scopes, written as identifiers.
    "metrics.name": None, "loss.name": None, "optimizer.name": None, "bridge.name": None,
    # They name an output of the graph: a layer's name.
    "output_layer": 4, "values": 4,
}  # fmt: skip


def _everything(place: Place) -> tuple[int, str] | None:
    """The most of EVERYTHING that `place` accepts, and which variant that is."""
    for i, text in enumerate(_variants(EVERYTHING)):
        if try_rendered(place, text):
            return i, text
    return None


def test_every_kind_of_place_is_listed() -> None:
    assert set(_TAKES) == set(KINDS)


@pytest.mark.parametrize("group", sorted(KINDS), ids=sorted(KINDS))
def test_everything_at_once(group: str, folder: Path) -> None:
    """All the hostile texts in one, compiled in full (a strict place gets them filtered)."""
    place = KINDS[group][0]
    found = _everything(place)
    assert (found and found[0]) == _TAKES[group], found
    if found:
        assert try_compiled(place, found[1], folder)


@pytest.mark.slow
@pytest.mark.parametrize("place", PLACES, ids=_IDS)
def test_everything_at_once_everywhere(place: Place, folder: Path) -> None:
    found = _everything(place)
    assert (found and found[0]) == _TAKES[kind(place)], found
    if found:
        assert try_compiled(place, found[1], folder)


@settings(max_examples=15, **_HYPOTHESIS)
@given(place=st.sampled_from(PLACES), text=TEXT)
def test_random_strings(place: Place, text: str, folder: Path) -> None:
    try_compiled(place, text, folder)


@pytest.mark.parametrize("group", sorted(KINDS), ids=sorted(KINDS))
@settings(max_examples=8, **_HYPOTHESIS)
@given(data=st.data(), text=TEXT)
def test_random_strings_rendered(group: str, data: st.DataObject, text: str) -> None:
    try_rendered(data.draw(st.sampled_from(KINDS[group])), text)


@pytest.mark.slow
@pytest.mark.parametrize("place", PLACES, ids=_IDS)
@settings(max_examples=20, **_HYPOTHESIS)
@given(text=TEXT)
def test_random_strings_many(place: Place, text: str, folder: Path) -> None:
    try_compiled(place, text, folder)


@pytest.mark.slow
@pytest.mark.parametrize("place", PLACES, ids=_IDS)
@settings(max_examples=300, **_HYPOTHESIS)
@given(text=TEXT)
def test_random_strings_rendered_many(place: Place, text: str) -> None:
    try_rendered(place, text)


# ------------------------------------------------- file names and --set


WEIRD_NAMES = [
    "a\r\nimport os\r.yaml",
    'q"""uote\\.yaml',
    "x'''\u2028\x85.yaml",
    "\n# comment\nimport os\n.yaml",
    "end*/x.yaml",  # a folder `end*`: the path holds `*/`
    os.fsdecode(b"not utf-8 \xff.yaml"),  # a lone surrogate in Python
]


def _one_line_diagnostics(stderr: str, shown: str) -> None:
    lines = stderr.splitlines()
    assert re.fullmatch(r"[0-9]+ errors?", lines[-1]), lines
    for line in lines[:-1]:
        assert line.startswith((shown + ":", "  hint: ")), line


@pytest.mark.parametrize("name", WEIRD_NAMES, ids=ascii)
def test_a_config_file_name_stays_in_its_comment_lines(
    name: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / name
    config.parent.mkdir(exist_ok=True)
    config.write_text(_base_yaml(), encoding="utf-8")
    out = tmp_path / "train.py"
    monkeypatch.chdir(tmp_path)
    assert main(["compile", name, "-o", "train.py"]) == 0
    assert main(["check", name, "-o", "train.py"]) == 0
    script = out.read_text(encoding="utf-8")
    lines = script.split("\n")
    assert [line[:2] for line in lines[:HEADER_LINES]] == ["# "] * HEADER_LINES
    assert lines[HEADER_LINES].startswith('"""')
    assert state(script) == "generated"
    base = Code(_render_data(copy.deepcopy(_base_data())))
    got = Code(script)
    assert got.shape == base.shape and got.names == base.names
    # A broken config of that name: one diagnostic per line, the name escaped.
    config.write_text(
        _base_yaml().replace("units: 10}", "unitz: 10}"), encoding="utf-8"
    )
    capsys.readouterr()
    assert main(["validate", str(config)]) == 2
    _one_line_diagnostics(capsys.readouterr().err, comment(str(config)))


SET_PATHS = {
    ("project", "description"): "project.description",
    ("model", "*", "graph", "layers", "[]", "*", "name"): "model.classifier.graph.layers[0].Conv2D.name",
    ("train", "data_pipeline", "*", "data_files", "[]"): "train.data_pipeline.TFRecordImagePipeline.data_files.0",
    ("settings", "logging", "formatter"): "settings.logging.formatter",
    ("model", "*", "name"): "model.classifier.name",
}  # fmt: skip


def _set(place: Place, text: str, folder: Path, *, full: bool) -> bool:
    """`--set PATH=text` on the base config: a clean rejection, or text as data only."""
    item = f"{SET_PATHS[place]}={as_yaml(text)}"
    base = baseline(place)
    data = copy.deepcopy(_base_data())
    try:
        if full:
            script = compile_data(data, folder, [item])
            check_script(place, text, script, base)
            assert script.split("\n")[1].startswith("# Regenerate from this folder: ")
        else:
            doc = apply_overrides(load_text(as_yaml(data), "c.yaml"), [item])
            check_code(place, text, Code(render(lower_document(doc, "c.yaml", ""))), base)  # fmt: skip
    except ConfigError as error:
        assert_clean_rejection(error)
        return False
    return True


@pytest.mark.parametrize("place", list(SET_PATHS), ids=list(SET_PATHS.values()))
def test_hostile_set_values(place: Place, folder: Path) -> None:
    for text in HOSTILE[::3]:  # every text is tried in the file; here, some of them
        _set(place, text, folder, full=False)
    for text in _variants(EVERYTHING):
        if _set(place, text, folder, full=False):
            assert _set(place, text, folder, full=True)
            break


@pytest.mark.parametrize(
    "item",
    [
        "project.description\n=x",
        "a\nb=1",
        "project\x00.name=x",
        "=x",
        "project.description",
        "__class__=1",
        "[0]=1",
        "project.__init__.__globals__=1",
        "model.classifier.graph.layers[99999999999999999999999]=1",
        "train.train_steps=99999999999999999999999",
        "train.train_steps=!!python/object/apply:os.system [touch PWNED]",
        "project.description=!!binary aGVsbG8=",
        "project.name={{ exp }}",
    ],
    ids=ascii,
)
def test_hostile_set_items_are_refused(item: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        compile_data(copy.deepcopy(_base_data()), tmp_path, [item])
    assert_clean_rejection(info.value)
    assert not (tmp_path / "PWNED").exists()


# ------------------------------------------------------------- YAML tags


TAGGED = [
    "!!python/object/apply:os.system ['touch PWNED']",
    "!!python/object/new:os.system ['touch PWNED']",
    "!!python/name:os.system",
    "!!python/module:os",
    "!!python/tuple [1, 2]",
    "!!binary aGVsbG8=",
    "!foo bar",
    "!<tag:example.com,2000:app/foo> bar",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!!pairs [a: 1]",
    "!!map {a: 1}",  # a mapping with the standard tag is fine, but not at a string place
    "!!str &x [1]",
]


@pytest.mark.parametrize("value", TAGGED, ids=ascii)
def test_yaml_tags_that_construct_objects_are_refused(
    value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        _base_yaml().replace(
            "description: LeNet-5 style", f"description: {value}\n  x: LeNet-5 style"
        ),
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["compile", str(config), "-o", str(tmp_path / "train.py")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    _one_line_diagnostics(err, str(config))
    assert not (tmp_path / "train.py").exists()
    assert not (tmp_path / "PWNED").exists() and not (ROOT / "PWNED").exists()


def test_a_tag_directive_cannot_smuggle_a_python_tag() -> None:
    text = "%TAG !p! tag:yaml.org,2002:python/\n---\na: !p!object/apply:os.system ['touch PWNED']\n"  # fmt: skip
    with pytest.raises(ConfigError) as info:
        load_text(text, "c.yaml")
    assert [d.code for d in info.value.diagnostics] == ["yaml-tag"]


def test_the_checks_catch_an_injection() -> None:
    """A script that quoted a text naively (`"..."`) fails the checks above."""
    # The model's name is a string literal of its own (the description is also
    # inside RESOLVED_CONFIG's JSON text, where naive quotes stay data).
    place = ("model", "*", "name")
    base = baseline(place)
    text = '" + __import__("os").getcwd() + "'
    naive = base.source.replace(f'"{PLACEHOLDER}"', f'"{text}"')
    assert not _same_but_the_literal(place, text, naive, base)
    with pytest.raises(AssertionError, match="__import__"):
        check_code(place, text, Code(naive), base)


# --------------------------------------------- a hostile script that trains


def _hostile_config(data_folder: str) -> dict[str, Any]:
    """lenet_digits with every kind of place filled with the most of EVERYTHING it takes."""
    plain = _CONTROL.sub("", EVERYTHING)
    scope = "x" + re.sub(r"[^A-Za-z0-9_.>-]", "", EVERYTHING)
    data = fill(("project", "description"), EVERYTHING)
    model = data["model"]["classifier"]
    model["name"] = scope
    model["graph"]["name"] = plain
    layers = model["graph"]["layers"]
    layers[0]["Conv2D"].update(name=scope, tags=[plain])
    layers[1]["MaxPooling2D"].update(name=scope + ">2", inbound_nodes=[scope])
    layers[-1]["Dense"]["is_output"] = True
    logging = data["settings"]["logging"]
    logging["formatter"] = plain.replace("/", "").replace("%", "%%") + "%(message)s"
    logging["path"] = re.sub(r"[/\\]", "", plain)[:200] + ".log"
    for section in ("train", "eval"):
        pipe = data[section]["data_pipeline"]["TFRecordImagePipeline"]
        pipe["name"] = plain
        pipe["data_files"] = [f"{data_folder}/digits_{section}.tfrecord"]
        pipe["meta_data_file"] = f"{data_folder}/meta_data.json"
    data["environment"]["resources"] = {"cpu": {"requests": EVERYTHING}}
    return data


@pytest.mark.slow
def test_a_hostile_script_trains_evaluates_exports_and_predicts(tmp_path: Path) -> None:
    """The script runs every schedule with hostile text everywhere; the text stays data."""
    pytest.importorskip("tensorflow")
    pytest.importorskip("sklearn")
    made = plxgen("data", "digits", "-o", "data", cwd=tmp_path, timeout=600)
    assert made.returncode == 0, made.stderr
    script = compile_data(_hostile_config("data"), tmp_path)
    (tmp_path / "train.py").write_text(script, encoding="utf-8")
    for args in (["--train-steps", "2", "--eval-steps", "1"], ["--schedule", "export"], ["--schedule", "predict"]):  # fmt: skip
        result = train("train.py", *args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-3000:]
        assert "Traceback" not in result.stderr
    metrics = json.loads((tmp_path / "lenet_digits" / "metrics.json").read_text())
    assert metrics["global_step"] == 2
    assert (tmp_path / "lenet_digits" / "predictions" / "predictions.jsonl").exists()
    (log,) = tmp_path.glob("*.log")  # settings.logging.path, a hostile file name
    assert "__import__('os').system('x')" in log.read_text(encoding="utf-8")
