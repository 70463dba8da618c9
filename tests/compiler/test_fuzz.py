"""Fuzzing the loader, the validator and the lowering: only ConfigError may come out.

Inputs: random YAML text; random documents built from the schema's own key
names; mutations of every example config (a key deleted, renamed with a typo,
a value replaced by one of another type or by a random valid value from the
schema, a list item duplicated, random data at a random path); random
`--set` items. Everything runs in process, without black, except for a
small share of the configs that are accepted, which are also formatted.

The default run tries a few hundred cases; `pytest -m slow tests/compiler/test_fuzz.py`
many thousands. A crash found here is fixed in plxgen and kept below as a
regression test named after it.
"""

from __future__ import annotations

import copy
import json
import math
from functools import lru_cache
from typing import Any, Callable

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plxgen.compiler import apply_overrides, lower_document
from plxgen.errors import ConfigError
from plxgen.compiler.format import format_source
from plxgen.compiler.load import (
    INT64_MAX,
    INT64_MIN,
    MAX_DEPTH,
    MAX_STRING,
    load_bytes,
    load_text,
)
from plxgen.compiler.lower import MAX_LAYERS, MAX_METRICS
from plxgen.compiler.render import render
from plxgen.compiler.validate import schema_text
from tests.conftest import ROOT, configs_in

EXAMPLES = configs_in(ROOT / "generated_examples")
Path = tuple[str | int, ...]

_SETTINGS: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
FAST = settings(max_examples=60, **_SETTINGS)
SLOW = settings(max_examples=3000, **_SETTINGS)


# ---------------------------------------------------------------- helpers


def check_error(error: ConfigError) -> None:
    """A ConfigError is a clean rejection: located, coded, one line each."""
    assert error.diagnostics
    for d in error.diagnostics:
        assert d.line >= 1 and d.col >= 1, d
        assert d.message and d.code, d
        first, *hint = d.format().split("\n")
        assert len(hint) <= 1 and all(h.startswith("  hint: ") for h in hint), d
        assert first.isprintable(), first


def run_pipeline(text: str, *, sets: list[str] | None = None, formatting: bool = False) -> bool:  # fmt: skip
    """load_text -> overrides -> validate -> lower (-> render); True if accepted.

    Only a ConfigError may be raised on the way; an accepted config renders
    to Python that compiles (and, with formatting, that black accepts).
    """
    try:
        doc = apply_overrides(load_text(text, "fuzz.yaml"), sets or [])
        experiment = lower_document(doc, "fuzz.yaml", "")
    except ConfigError as error:
        check_error(error)
        return False
    source = render(experiment)
    compile(source, "<rendered>", "exec")
    if formatting:  # black accepts it, and a second pass changes nothing
        formatted = format_source(source)
        assert format_source(formatted) == formatted
    return True


def as_yaml(data: Any) -> str:
    return str(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10**9))


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_text())
    return loaded


@lru_cache(maxsize=1)
def schema_keys() -> list[str]:
    """Every property name the schema knows (the words a fuzzed document uses)."""
    keys: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            keys.update(node.get("properties", {}))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema())
    return sorted(keys)


@lru_cache(maxsize=None)
def example_data(index: int) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(EXAMPLES[index].read_text())
    return data


# ---------------------------------------------------- random documents


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 2, 10, 2**31, 2**32, INT64_MAX, INT64_MIN, 2**64]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
KEYS = st.one_of(st.sampled_from(schema_keys()), st.text(max_size=10))
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(KEYS, inner, max_size=5),
    ),
    max_leaves=30,
)
YAML_ALPHABET = st.sampled_from(
    list("abc019 :-?[]{},#&*!|>'\"%@`\n\t\\.~=+_") + ["!!int", "!!str", "!!float", "!!bool", "!!null", "<<", "---", "...", "\ufeff", "\x85", "\u2028"]  # fmt: skip
)
YAML_TEXT = st.lists(YAML_ALPHABET, max_size=60).map("".join)


def _skeleton(parts: dict[str, Any]) -> dict[str, Any]:
    """A document with the required sections, some of them random."""
    return {"version": 1, **parts}


SKELETONS = st.fixed_dictionaries(
    {},
    optional={
        "project": st.one_of(DOCUMENTS, st.just({"name": "p"})),
        "model": DOCUMENTS,
        "train": DOCUMENTS,
        "eval": DOCUMENTS,
        "environment": DOCUMENTS,
        "settings": DOCUMENTS,
    },
).map(_skeleton)


# ----------------------------------------------- values from the schema


def _resolve(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = schema()["definitions"][node["$ref"].rsplit("/", 1)[-1]]
    return node


_STRATEGIES: dict[tuple[int, int], st.SearchStrategy[Any]] = {}


def from_schema(node: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values that mostly fit a sub-schema (bounds, enums, families, required keys)."""
    node = _resolve(node)
    key = (id(node), min(depth, 4))
    if key not in _STRATEGIES:
        _STRATEGIES[key] = _from_schema(node, depth)
    return _STRATEGIES[key]


def _from_schema(node: Any, depth: int) -> st.SearchStrategy[Any]:
    if not isinstance(node, dict) or depth > 6:
        return SCALARS
    if "enum" in node:
        return st.sampled_from(node["enum"])
    if "const" in node:
        return st.just(node["const"])
    if "anyOf" in node:
        return st.one_of([from_schema(b, depth) for b in node["anyOf"]])
    types = node.get("type", [])
    types = types if isinstance(types, list) else [types]
    options = [_typed(node, t, depth) for t in types]
    return st.one_of(options) if options else SCALARS


def _typed(node: dict[str, Any], kind: str, depth: int) -> st.SearchStrategy[Any]:
    """Values of one JSON type, inside the schema's bounds (mostly valid on purpose:
    the other mutations make the invalid ones)."""
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        lo = node.get("minimum", node.get("exclusiveMinimum", -4) + 1)
        hi = node.get("maximum", node.get("exclusiveMaximum", INT64_MAX + 1) - 1)
        small = st.integers(lo, max(lo, min(hi, lo + 300)))
        return st.one_of(small, st.sampled_from(sorted({lo, hi})))
    if kind == "number":
        lo_f = float(node.get("minimum", node.get("exclusiveMinimum", -10.0)))
        hi_f = float(node.get("maximum", node.get("exclusiveMaximum", 10.0)))
        return st.floats(
            lo_f,
            max(lo_f, hi_f),
            exclude_min="minimum" not in node,
            exclude_max="maximum" not in node,
        )
    if kind == "string":
        return st.text("abcxyz_019", min_size=node.get("minLength", 0), max_size=8)
    if kind == "array":
        items = from_schema(node.get("items", {}), depth + 1)
        least = node.get("minItems", 0)
        return st.lists(
            items, min_size=least, max_size=max(least, node.get("maxItems", 3))
        )
    if kind == "object":
        props: dict[str, Any] = node.get("properties", {})
        if "propertyNames" in node and props:  # a family: `Name: {arguments}`
            return st.sampled_from(sorted(props)).flatmap(
                lambda name: _member(name, props[name], depth + 1)
            )
        required = node.get("required", [])
        return st.fixed_dictionaries(
            {k: from_schema(props[k], depth + 1) for k in required if k in props},
            optional={
                k: from_schema(v, depth + 1)
                for k, v in props.items()
                if k not in required
            },
        )
    return SCALARS


def _member(name: str, args: Any, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    """`{name: arguments}` for one member of a family."""
    return from_schema(args, depth).map(lambda value: {name: value})


def schema_at(path: Path) -> Any:
    """The sub-schema that describes the value at `path`, or None."""
    node = _resolve(schema())
    for part in path:
        found = None
        for candidate in [node, *node.get("anyOf", [])]:
            candidate = _resolve(candidate)
            if isinstance(part, int) and "items" in candidate:
                found = candidate["items"]
            elif isinstance(part, str) and part in candidate.get("properties", {}):
                found = candidate["properties"][part]
            elif isinstance(part, str) and isinstance(
                candidate.get("additionalProperties"), dict
            ):
                found = candidate["additionalProperties"]
            if found is not None:
                break
        if found is None:
            return None
        node = _resolve(found)
    return node


# ------------------------------------------------------------ mutations


def paths(data: Any, path: Path = ()) -> list[Path]:
    """Every path in a document (the root included)."""
    found = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            found.extend(paths(value, path + (key,)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found.extend(paths(value, path + (i,)))
    return found


def get(data: Any, path: Path) -> Any:
    for part in path:
        data = data[part]
    return data


def put(data: Any, path: Path, value: Any) -> Any:
    if not path:
        return value
    get(data, path[:-1])[path[-1]] = value
    return data


def _other_type(value: Any) -> st.SearchStrategy[Any]:
    return SCALARS.filter(lambda v: type(v) is not type(value)) | DOCUMENTS


def _typo(word: str) -> st.SearchStrategy[str]:
    """A word with one character dropped, doubled, swapped or changed (or its case)."""
    if not word:
        return st.just("x")

    def edit(i: int, how: int, char: str) -> str:
        i %= len(word)
        if how == 0:
            return word[:i] + word[i + 1 :]
        if how == 1:
            return word[:i] + word[i] + word[i:]
        if how == 2 and i + 1 < len(word):
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        if how == 3:
            return word.swapcase()
        return word[:i] + char + word[i + 1 :]

    return st.builds(
        edit, st.integers(0, 100), st.integers(0, 4), st.sampled_from("aeiouxz_-1")
    )


@st.composite
def mutation(draw: Callable[..., Any], data: Any) -> Any:
    """One random change to a document (returned as a new document)."""
    data = copy.deepcopy(data)
    where = draw(st.sampled_from(paths(data)))
    target = get(data, where)
    how = draw(st.sampled_from(["delete", "other-type", "typo", "duplicate", "random", "schema", "family", "family", "graph"]))  # fmt: skip
    if how == "family":
        return _new_family_member(draw, data)
    if how == "graph":
        return _rewire(draw, data)
    if how == "delete" and where:
        parent = get(data, where[:-1])
        del parent[where[-1]]
        return data
    if how == "typo" and where and isinstance(where[-1], str):
        parent = get(data, where[:-1])
        new = draw(_typo(where[-1]))
        if new not in parent:
            parent[new] = parent.pop(where[-1])
        return data
    if how == "duplicate":
        lists = [p for p in paths(data) if isinstance(get(data, p), list) and get(data, p)]  # fmt: skip
        if lists:
            chosen = get(data, draw(st.sampled_from(lists)))
            i = draw(st.integers(0, len(chosen) - 1))
            chosen.insert(i, copy.deepcopy(chosen[i]))
            return data
    if how == "schema":
        sub = schema_at(where)
        if sub is not None:
            return put(data, where, draw(from_schema(sub)))
    if how == "other-type":
        return put(data, where, draw(_other_type(target)))
    return put(data, where, draw(DOCUMENTS))


def _model(data: Any) -> tuple[str, Any] | None:
    model = data.get("model") if isinstance(data, dict) else None
    if not isinstance(model, dict) or len(model) != 1:
        return None
    ((kind, spec),) = model.items()
    return (kind, spec) if isinstance(spec, dict) else None


def _family_places(data: Any) -> list[Path]:
    """Where a `Name: {arguments}` of some family goes: loss, optimizer, a metric, a layer, ..."""
    found: list[Path] = []
    if not isinstance(data, dict):
        return found
    model = _model(data)
    if model:
        kind, spec = model
        base: Path = ("model", kind)
        found += [base + ("loss",), base + ("optimizer",)]
        metrics = spec.get("metrics")
        found += [base + ("metrics", i) for i in range(len(metrics) + 1 if isinstance(metrics, list) else 1)]  # fmt: skip
        graph = spec.get("graph")
        if isinstance(graph, dict) and isinstance(graph.get("layers"), list):
            found += [base + ("graph", "layers", i) for i in range(len(graph["layers"]) + 1)]  # fmt: skip
    for section in ("train", "eval"):
        pipe = data.get(section, {}).get("data_pipeline") if isinstance(data.get(section), dict) else None  # fmt: skip
        if isinstance(pipe, dict) and len(pipe) == 1:
            ((name, args),) = pipe.items()
            processors = (args or {}).get("feature_processors") if isinstance(args, dict) else None  # fmt: skip
            if isinstance(processors, dict):
                for feature, graph in processors.items():
                    if isinstance(graph, dict) and isinstance(
                        graph.get("layers"), list
                    ):
                        where: Path = (section, "data_pipeline", name, "feature_processors", feature, "layers")  # fmt: skip
                        found += [where + (i,) for i in range(len(graph["layers"]) + 1)]
    return found


def _new_family_member(draw: Callable[..., Any], data: Any) -> Any:
    """Replace (or append) a loss, optimizer, metric or layer by a random one from the schema."""
    places = _family_places(data)
    if not places:
        return data
    where = draw(st.sampled_from(places))
    parent = data
    for i, part in enumerate(where[:-1]):
        wanted = list if isinstance(where[i + 1], int) else dict
        if isinstance(parent, dict) and not isinstance(parent.get(part), wanted):
            parent[part] = wanted()
        parent = parent[part]
    if isinstance(where[-1], int):
        del parent[where[-1] :]
        parent.append(None)
    sub = schema_at(where)
    if sub is None:
        return data
    return put(data, where, draw(from_schema(sub)))


def _rewire(draw: Callable[..., Any], data: Any) -> Any:
    """Name some layers and feed others from them: inbound_nodes, is_output, output_layers."""
    model = _model(data)
    graph = model[1].get("graph") if model else None
    if not isinstance(graph, dict) or not isinstance(graph.get("layers"), list):
        return data
    layers = graph["layers"]
    names = ["image", "l0", "l1", "l2", "nope"]
    for i, item in enumerate(layers):
        if not isinstance(item, dict) or len(item) != 1:
            continue
        ((name, args),) = item.items()
        args = dict(args) if isinstance(args, dict) else {}
        if draw(st.booleans()):
            args["name"] = draw(st.sampled_from(names))
        if draw(st.integers(0, 3)) == 0:
            args["inbound_nodes"] = draw(st.one_of(st.sampled_from(names), st.lists(st.sampled_from(names), min_size=1, max_size=3)))  # fmt: skip
        if draw(st.integers(0, 5)) == 0:
            args["is_output"] = draw(st.booleans())
        item[name] = args
    if draw(st.booleans()):
        graph["output_layers"] = draw(st.one_of(st.sampled_from(names), st.lists(st.sampled_from(names), min_size=1, max_size=2)))  # fmt: skip
    return data


@st.composite
def mutated_example(draw: Callable[..., Any]) -> Any:
    data: Any = example_data(draw(st.integers(0, len(EXAMPLES) - 1)))
    for _ in range(draw(st.integers(1, 3))):
        data = draw(mutation(data))
    return data


# ------------------------------------------------------------------ tests

_ACCEPTED = {"count": 0}


def _fuzz_mutated(data: Any) -> None:
    accepted = run_pipeline(as_yaml(data), formatting=_ACCEPTED["count"] % 10 == 9)
    _ACCEPTED["count"] += accepted


def test_every_example_passes_the_pipeline() -> None:
    for i, _ in enumerate(EXAMPLES):
        assert run_pipeline(as_yaml(example_data(i)), formatting=True)


@FAST
@given(text=st.one_of(YAML_TEXT, st.text(max_size=80)))
def test_random_yaml_text(text: str) -> None:
    run_pipeline(text)


@FAST
@given(raw=st.binary(max_size=80))
def test_random_bytes(raw: bytes) -> None:
    try:
        load_bytes(raw, "fuzz.yaml")
    except ConfigError as error:
        check_error(error)


@FAST
@given(data=st.one_of(DOCUMENTS, SKELETONS))
def test_random_documents(data: Any) -> None:
    run_pipeline(as_yaml(data))


@settings(max_examples=300, **_SETTINGS)
@given(data=mutated_example())
def test_mutated_examples(data: Any) -> None:
    _fuzz_mutated(data)


SET_PATHS = st.one_of(
    st.text(max_size=20),
    st.lists(st.one_of(KEYS, st.integers(0, 12).map(str), st.integers(0, 12).map(lambda i: f"[{i}]")), min_size=1, max_size=6).map(".".join),  # fmt: skip
)


@FAST
@given(
    items=st.lists(
        st.builds(lambda p, v: f"{p}={v}", SET_PATHS, st.one_of(YAML_TEXT, DOCUMENTS.map(json.dumps))),  # fmt: skip
        max_size=3,
    ),
    index=st.integers(0, len(EXAMPLES) - 1),
)
def test_random_set_items(items: list[str], index: int) -> None:
    run_pipeline(as_yaml(example_data(index)), sets=items)


@pytest.mark.slow
@settings(max_examples=10_000, **_SETTINGS)
@given(data=mutated_example())
def test_mutated_examples_many(data: Any) -> None:
    _fuzz_mutated(data)


@pytest.mark.slow
@SLOW
@given(data=st.one_of(DOCUMENTS, SKELETONS), text=st.one_of(YAML_TEXT, st.text()))
def test_random_documents_and_text_many(data: Any, text: str) -> None:
    run_pipeline(as_yaml(data))
    run_pipeline(text)


@pytest.mark.slow
@SLOW
@given(
    items=st.lists(
        st.builds(lambda p, v: f"{p}={v}", SET_PATHS, st.one_of(YAML_TEXT, DOCUMENTS.map(json.dumps))),  # fmt: skip
        max_size=3,
    ),
    index=st.integers(0, len(EXAMPLES) - 1),
)
def test_random_set_items_many(items: list[str], index: int) -> None:
    run_pipeline(as_yaml(example_data(index)), sets=items)


# ------------------------------------------- regressions (crashes found)


def only_codes(text: str, sets: list[str] | None = None) -> list[str]:
    """The diagnostic codes of a config that must be refused (cleanly)."""
    with pytest.raises(ConfigError) as info:
        doc = apply_overrides(load_text(text, "c.yaml"), sets or [])
        lower_document(doc, "c.yaml", "")
    check_error(info.value)
    return [d.code for d in info.value.diagnostics]


def seed_text(old: str = "", new: str = "") -> str:
    text = EXAMPLES[0].read_text() if not old else None
    for path in EXAMPLES:
        if old and old in path.read_text():
            text = path.read_text().replace(old, new, 1)
            break
    assert text is not None, old
    return text


@pytest.mark.parametrize(
    "value",
    ["!!int abc", "!!float abc", "!!bool maybe", '!!int ""', '!!float ""', "!!int 0x", '!!float "1:2:x"'],  # fmt: skip
)
def test_regression_explicit_scalar_tag_on_a_wrong_value(value: str) -> None:
    """`!!int abc` raised ValueError (`!!bool maybe` KeyError, `!!int ""` IndexError): exit 123."""
    assert only_codes(f"a: {value}\n") == ["yaml-tag"]


def test_regression_integer_of_thousands_of_digits() -> None:
    """int() refuses more than 4300 digits: a ValueError (exit 123); now out of range."""
    assert only_codes("a: " + "9" * 5000 + "\n") == ["out-of-range"]
    assert only_codes("a: 0x" + "f" * 5000 + "\n") == ["out-of-range"]


def test_regression_control_character_in_the_file() -> None:
    """PyYAML's ReaderError was shown at 1:1 on two lines; now located, on one line."""
    with pytest.raises(ConfigError) as info:
        load_text("a: 1\nb: x\x1fy\n", "c.yaml")
    check_error(info.value)
    (d,) = info.value.diagnostics
    assert (d.line, d.col, d.code) == (2, 5, "yaml-syntax")
    assert "U+001F" in d.message


def test_regression_key_with_a_newline_breaks_the_diagnostic_line() -> None:
    with pytest.raises(ConfigError) as info:
        lower_document(load_text(seed_text("  name: ", '  "a\\nb": 1\n  name: '), "c.yaml"), "c.yaml", "")  # fmt: skip
    check_error(info.value)
    assert any("['a\\nb']" in d.path for d in info.value.diagnostics)


@pytest.mark.parametrize(
    "item",
    ["train.train_steps\n=5", "model.classifier.metrics[" + "9" * 5000 + "]=1", "x.y=" + "1" * 200],  # fmt: skip
)
def test_regression_hostile_set_items(item: str) -> None:
    """A 5000-digit index crashed int(); a path ending in a newline slipped past `$`."""
    codes = only_codes(seed_text(), [item])
    assert codes in (["bad-set"], ["unknown-key"], ["out-of-range"]), codes


def test_regression_names_and_paths_with_control_characters_or_a_slash() -> None:
    """Accepted before: Keras refuses `/` in a layer name at start-up, a NUL in a path fails open()."""
    for old, new in [
        ("Conv2D: {filters: 32,", "Conv2D: {name: a/b, filters: 32,"),
        ("meta_data_file: ../data/digits/meta_data.json", 'meta_data_file: "a\\0b"'),
        ("name: lenet_digits", 'name: "lenet_digits\\n"'),
    ]:
        assert only_codes(seed_text(old, new)) == ["bad-character"]


def test_regression_lone_surrogate_is_not_text() -> None:
    """A JSON-style pair of \\u escapes gives two lone surrogates: TensorFlow cannot
    encode them (the script failed with a misleading error); refused when loading."""
    text = seed_text("name: lenet_digits", 'name: "\\ud83d\\ude00"')
    assert only_codes(text) == ["bad-character"]
    line = (
        "description: LeNet-5 style convolutional network on real handwritten digits."
    )
    assert run_pipeline(seed_text(line, 'description: "\\U0001F600 LeNet"'))


def test_regression_names_that_are_no_tensorflow_scope() -> None:
    """A layer named `a b` (or `é`), or a model named `_x`, crashed the script in its
    first training step: TensorFlow name scopes take only [A-Za-z0-9_.>-]."""
    for old, new in [
        ("Conv2D: {filters: 32,", "Conv2D: {name: a b, filters: 32,"),
        ("Conv2D: {filters: 32,", "Conv2D: {name: é, filters: 32,"),
    ]:
        assert only_codes(seed_text(old, new)) == ["bad-character"]
    text = seed_text(
        "    one_hot_encode: true", "    one_hot_encode: true\n    name: _x"
    )
    assert only_codes(text) == ["pattern"]
    # The default model name, the project's, loses a leading `_` or `-`.
    doc = load_text(seed_text("name: lenet_digits", "name: _lenet"), "c.yaml")
    assert lower_document(doc, "c.yaml", "").model.name == "lenet"


@pytest.mark.parametrize("clipping", ["{}", "{rmax: 3.0, rmin: 0.3, dmax: 5.0}"])
def test_regression_batch_normalization_renorm_clipping(clipping: str) -> None:
    """Found by the fuzzer: a mapping argument that is plain data was read as a
    `Name: {arguments}` (ValueError for `{}`, KeyError otherwise): exit 123."""
    layer = (
        f"        - BatchNormalization: {{renorm: true, renorm_clipping: {clipping}}}"
    )
    text = seed_text("        - Dropout: {rate: 0.4}", layer)
    assert run_pipeline(text, formatting=True)
    experiment = lower_document(load_text(text, "c.yaml"), "c.yaml", "")
    (norm,) = [l for l in experiment.model.graph.layers if "Batch" in l.call.func.qualname]  # fmt: skip
    assert dict(norm.call.kwargs)["renorm_clipping"] == yaml.safe_load(clipping)


@pytest.mark.parametrize("shape", ["[-1, 28]", "[0, 784]"])
def test_regression_reshape_processor_size_below_one(shape: str) -> None:
    """The script reshapes to [-1, *target_shape]: a -1 there is a second -1, which
    tf.reshape refuses in the first batch; now refused when compiling."""
    old = "            - Standardization:\n"
    text = seed_text(old, old + f"            - Reshape: {{target_shape: {shape}}}\n")
    assert only_codes(text) == ["unsupported-value"]
    assert run_pipeline(seed_text(old, old + "            - Reshape: {target_shape: [784]}\n"))  # fmt: skip


def test_regression_project_name_of_dots() -> None:
    """`name: ..` made the default model folder the script's parent folder."""
    assert only_codes(seed_text("name: lenet_digits", "name: ..")) == ["bad-name"]


@pytest.mark.parametrize(
    "fmt", ["no fields", "%(asctime)s %(nope)s", "%(message)", "%(message)999999999s", "%(message)*s"]  # fmt: skip
)
def test_regression_logging_format_that_fails_at_start_up(fmt: str) -> None:
    """logging.basicConfig raised at start-up (or a log line took gigabytes)."""
    text = seed_text("    level: INFO", f"    level: INFO\n    formatter: {json.dumps(fmt)}")  # fmt: skip
    assert only_codes(text) == ["bad-format"]


def test_regression_seed_out_of_numpy_range() -> None:
    """numpy takes seeds in [0, 2**32 - 1]; -1 crashed the script at start-up."""
    for seed in (-1, 2**32):
        text = seed_text("tf_random_seed: 1", f"tf_random_seed: {seed}")
        assert only_codes(text) in (["minimum"], ["maximum"])


def test_regression_shuffle_buffer_overflows_int64() -> None:
    text = seed_text("      batch_size: 64", f"      batch_size: 64\n      min_after_dequeue: {INT64_MAX}")  # fmt: skip
    assert only_codes(text) == ["out-of-range"]


def test_regression_not_pattern_reported_twice_for_a_non_string() -> None:
    """A number as a layer name gave a `type` and a confusing `not` diagnostic."""
    text = seed_text("Conv2D: {filters: 32,", "Conv2D: {name: 5, filters: 32,")
    assert only_codes(text) == ["type"]


def test_regression_only_the_first_unknown_key_of_a_mapping_was_reported() -> None:
    text = seed_text("  name: lenet_digits", "  name: lenet_digits\n  nmae: x\n  descripton: y")  # fmt: skip
    with pytest.raises(ConfigError) as info:
        lower_document(load_text(text, "c.yaml"), "c.yaml", "")
    assert [d.path for d in info.value.diagnostics] == ["project.nmae", "project.descripton"]  # fmt: skip


# ------------------------------------------------------------------ limits


def test_limit_integer_to_int64() -> None:
    text = seed_text("train_steps: 300", "train_steps: " + str(10**100))
    with pytest.raises(ConfigError) as info:
        load_text(text, "c.yaml")
    (d,) = info.value.diagnostics
    assert d.code == "out-of-range" and d.path == "train.train_steps"
    assert d.line == text.splitlines().index("  train_steps: " + str(10**100)) + 1
    assert load_text(f"a: {INT64_MAX}\nb: {INT64_MIN}\n", "c.yaml").data["a"] == INT64_MAX  # fmt: skip


def test_limit_string_length() -> None:
    for what in ("a: {}\n", "? {}\n: 1\n"):  # a long key needs `?`
        with pytest.raises(ConfigError) as info:
            load_text(what.format("x" * (MAX_STRING + 1)), "c.yaml")
        assert [d.code for d in info.value.diagnostics] == ["too-large"]
        assert load_text(what.format("x" * MAX_STRING), "c.yaml")


def test_limit_nesting_depth() -> None:
    with pytest.raises(ConfigError) as info:
        load_text("a: " + "[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2), "c.yaml")
    assert [d.code for d in info.value.diagnostics] == ["too-large"]


def test_limit_alias_expansion_of_long_strings() -> None:
    """A 9 KB string aliased 300 times is 2.7 MB of text from a small file."""
    text = "a: &s " + "x" * 9000 + "\nb: [" + ", ".join(["*s"] * 300) + "]\n"
    with pytest.raises(ConfigError) as info:
        load_text(text, "c.yaml")
    assert [d.code for d in info.value.diagnostics] == ["too-large"]
    assert "characters" in info.value.diagnostics[0].message


def test_limit_file_size() -> None:
    with pytest.raises(ConfigError) as info:
        load_bytes(b"a: 1\n" * 250_000, "c.yaml")
    assert [d.code for d in info.value.diagnostics] == ["too-large"]


def test_limit_layers_in_a_graph() -> None:
    many = "\n".join(["        - Dropout: {rate: 0.1}"] * (MAX_LAYERS + 1))
    text = seed_text("        - Dropout: {rate: 0.4}", many)
    assert only_codes(text) == ["too-large"]


def test_limit_metrics() -> None:
    thresholds = ", ".join(str(i / 1000) for i in range(1, MAX_METRICS + 5))
    text = seed_text("      - AUC", f"      - AUC\n      - PrecisionAtThresholds: {{thresholds: [{thresholds}]}}")  # fmt: skip
    assert only_codes(text) == ["too-large"]


def test_regression_unknown_inbound_nodes_listed_every_layer_name() -> None:
    """Each unknown inbound node got a hint listing every layer name: with 2000
    layers, 20 MB of diagnostics (quadratic). The hint now names at most 12."""

    layers = [
        f"        - Dropout: {{rate: 0.1, name: layer{i}, inbound_nodes: [zz{i}]}}"
        for i in range(3000)
    ]
    text = seed_text("        - Dropout: {rate: 0.4}", "\n".join(layers))
    with pytest.raises(ConfigError) as info:
        lower_document(load_text(text, "c.yaml"), "c.yaml", "")
    check_error(info.value)
    assert max(len(d.format()) for d in info.value.diagnostics) < 1000


def test_logging_format_with_an_escaped_percent_is_accepted() -> None:
    fmt = "100%% done, %%(message)99999s is text: %(asctime)s %(message)s"
    text = seed_text("    level: INFO", f"    level: INFO\n    formatter: {json.dumps(fmt)}")  # fmt: skip
    assert run_pipeline(text)


# ------------------------------------ structural mutations of every example
#
# Each example, changed the way hands change files: a key deleted, a key
# copied into another mapping, a value replaced by one of another type (the
# YAML 1.1 spellings included: 10.0 for 10, "1e-3" for 0.001), a subtree moved
# elsewhere, a key renamed by one edit. Run per example, so that each gets its
# share; every diagnostic must be located and carry a hint.


def check_hinted(error: ConfigError) -> None:
    """A clean rejection whose every diagnostic says how to fix it."""
    check_error(error)
    for d in error.diagnostics:
        assert d.hint, d.format()


def _respelled(value: Any) -> st.SearchStrategy[Any]:
    """The same value as a careless hand writes it, or a value of another type."""
    if isinstance(value, bool):
        return st.sampled_from(["yes", "true", 1, None])
    if isinstance(value, int):
        return st.sampled_from([float(value), str(value), f"{value}e0", [value], None])
    if isinstance(value, float):
        return st.sampled_from([f"{value:e}".replace("e-0", "e-"), str(value), int(value) if math.isfinite(value) else 0, [value]])  # fmt: skip
    if isinstance(value, str):
        return st.sampled_from([value + "\n", "", 10, [value], {value: None}])
    return _other_type(value)


@st.composite
def structural_mutation(draw: Callable[..., Any], data: Any) -> Any:
    """One structural change of a document (a new document)."""
    data = copy.deepcopy(data)
    inner = [p for p in paths(data) if p]
    if not inner:
        return data
    where = draw(st.sampled_from(inner))
    parent, key = get(data, where[:-1]), where[-1]
    how = draw(st.sampled_from(["delete", "copy", "respell", "move", "rename"]))
    if how == "delete":
        del parent[key]
    elif how == "copy":  # into another mapping (a sibling, a parent, anywhere)
        mappings = [p for p in paths(data) if isinstance(get(data, p), dict)]
        target = get(data, draw(st.sampled_from(mappings)))
        name = key if isinstance(key, str) else draw(st.sampled_from(schema_keys()))
        target[name] = copy.deepcopy(parent[key])
    elif how == "respell":
        put(data, where, draw(_respelled(parent[key])))
    elif how == "move":
        subtree = parent.pop(key)
        places = [p for p in paths(data) if isinstance(get(data, p), (dict, list))]
        target = get(data, draw(st.sampled_from(places)))
        if isinstance(target, list):
            target.insert(draw(st.integers(0, len(target))), subtree)
        else:
            target[key if isinstance(key, str) else "moved"] = subtree
    elif isinstance(key, str):
        new = draw(_typo(key))
        if new not in parent:
            parent[new] = parent.pop(key)
    return data


def _structural_run(data: Any) -> None:
    """Compiled to Python that parses, or rejected with located, hinted diagnostics."""
    try:
        doc = apply_overrides(load_text(as_yaml(data), "fuzz.yaml"), [])
        experiment = lower_document(doc, "fuzz.yaml", "")
    except ConfigError as error:
        check_hinted(error)
        return
    compile(render(experiment), "<rendered>", "exec")


STRUCTURAL_FAST = settings(max_examples=8, **_SETTINGS)
STRUCTURAL_SLOW = settings(max_examples=1500, **_SETTINGS)


def _mutated_from(index: int) -> st.SearchStrategy[Any]:
    return st.integers(1, 3).flatmap(
        lambda n: _chain(example_data(index), n)
    )


def _chain(data: Any, n: int) -> st.SearchStrategy[Any]:
    strategy: st.SearchStrategy[Any] = st.just(data)
    for _ in range(n):
        strategy = strategy.flatmap(structural_mutation)
    return strategy


@pytest.mark.parametrize("index", range(len(EXAMPLES)), ids=lambda i: EXAMPLES[i].stem)
def test_structural_mutations_of_each_example(index: int) -> None:
    @STRUCTURAL_FAST
    @given(data=_mutated_from(index))
    def run(data: Any) -> None:
        _structural_run(data)

    run()


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(EXAMPLES)), ids=lambda i: EXAMPLES[i].stem)
def test_structural_mutations_of_each_example_many(index: int) -> None:
    @STRUCTURAL_SLOW
    @given(data=_mutated_from(index))
    def run(data: Any) -> None:
        _structural_run(data)

    run()


# ------------------------------------------------ the expression language
#
# Expressions built from the language's own parts (names in scope and not,
# literals, operators, filters allowed and not, attributes, calls, indexes),
# and token soups that are not expressions at all, placed where a config
# uses them: a value, a declaration, a key, a loop's `len`.

_NAMES = ["conv", "dense_units", "dropout", "n_classes", "block", "tags", "self", "range",
          "lipsum", "cycler", "joiner", "namespace", "dict", "loop", "undefined_name"]  # fmt: skip
_LITERALS = ["0", "1", "-1", "2", "10", "0.5", "1e-3", "1e308", "10**300", "'x'", "''", "'a' * 3",
             "[1, 2]", "[]", "{'a': 1}", "none", "true", "(1, 2)", "2**64"]  # fmt: skip
_FILTERS = ["length", "int", "float", "string", "list", "sum", "join(',')", "first", "last",
            "upper", "sort", "unique", "max", "min", "round", "abs", "reverse", "batch(2)",
            "slice(3)", "replace('a', 'b')", "default(1)", "map('int')", "select", "tojson",
            "attr('__class__')", "format(1)", "center(100000)", "indent(100000)", "pprint",
            "wordwrap(1)", "xmlattr", "random", "items", "dictsort"]  # fmt: skip
_BINARY = ["+", "-", "*", "/", "//", "%", "**", "~", " and ", " or ", " in ", " == ", " < ", " if true else "]  # fmt: skip


def _expression() -> st.SearchStrategy[str]:
    atoms = st.sampled_from(_NAMES + _LITERALS)

    def grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.builds(lambda a, op, b: f"{a}{op}{b}", inner, st.sampled_from(_BINARY), inner),
            st.builds(lambda a, f: f"{a} | {f}", inner, st.sampled_from(_FILTERS)),
            st.builds(lambda a, i: f"{a}[{i}]", inner, inner),
            st.builds(lambda a, n: f"{a}.{n}", inner, st.sampled_from(["filters", "__class__", "keys", "items", "x", "mro", "__globals__"])),  # fmt: skip
            st.builds(lambda a, b: f"{a}({b})", inner, inner),
            st.builds(lambda a: f"not {a}", inner),
            st.builds(lambda a: f"({a})", inner),
            st.builds(lambda a, b: f"[{a}, {b}]", inner, inner),
        )

    return st.recursive(atoms, grow, max_leaves=6)


_TOKENS = st.sampled_from(_NAMES + _LITERALS + _BINARY + ["|", "(", ")", "[", "]", "{", "}", ",", ".", "{{", "}}", "{%", "%}", "'", '"', "\n", "\x00"])  # fmt: skip
EXPRESSIONS = st.one_of(
    _expression().map(lambda e: "{{ " + e + " }}"),
    st.lists(_TOKENS, min_size=1, max_size=8).map(lambda t: "{{ " + " ".join(t) + " }}"),
    st.lists(_TOKENS, min_size=1, max_size=8).map("".join),
    st.builds(lambda a, b: f"a{{{{ {a} }}}}b{{{{ {b} }}}}", _expression(), _expression()),
)
_TEMPLATED = EXAMPLES.index(ROOT / "generated_examples" / "lenet_templated.yaml")


@st.composite
def with_expression(draw: Callable[..., Any]) -> Any:
    """The templated example with one expression placed where a config may use one."""
    data = copy.deepcopy(example_data(_TEMPLATED))
    expression = draw(EXPRESSIONS)
    place = draw(st.sampled_from(["value", "declaration", "key", "len"]))
    if place == "declaration":
        data["declarations"][draw(st.sampled_from(["conv", "dropout", "extra"]))] = expression
    elif place == "key":
        layers = data["model"]["classifier"]["graph"]["layers"]
        layers.insert(draw(st.integers(0, len(layers))), {expression: {"units": 3}})
    elif place == "len":
        data["model"]["classifier"]["graph"]["layers"][0]["for"]["len"] = expression
    else:
        scalars = [p for p in paths(data) if p and not isinstance(get(data, p), (dict, list))]
        put(data, draw(st.sampled_from(scalars)), expression)
    return data


@settings(max_examples=60, **_SETTINGS)
@given(data=with_expression())
def test_expressions_compile_or_are_located(data: Any) -> None:
    _structural_run(data)


@pytest.mark.slow
@settings(max_examples=5000, **_SETTINGS)
@given(data=with_expression())
def test_expressions_compile_or_are_located_many(data: Any) -> None:
    _structural_run(data)
