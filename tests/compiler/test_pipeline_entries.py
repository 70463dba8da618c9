"""One entry per pipeline kind and per feature processor, read by every stage.

A pipeline kind's traits (its reader, features, files, tables and modules)
and a processor's statements live in its registry entry; lowering copies what
the templates need into the IR, and the templates print it without naming a
kind. These tests hold the entries to the templates and to lowering.
"""

from __future__ import annotations

import ast
import re
import string
import sys
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from plxgen.compiler import ir, lower_document
from plxgen.compiler import lower as lowering
from plxgen.compiler.load import load_text
from plxgen.compiler.render import environment, render
from plxgen.schema import registry
from plxgen.schema.registry.pipelines import PipelineKind
from plxgen.schema.registry.processors import ProcessorKind, Statement
from tests.conftest import ROOT, configs_in

TEMPLATES = ROOT / "templates"
EXAMPLES = configs_in(ROOT / "generated_examples")
# Reader arguments that are not fields of a kind: lowering gives them.
GIVEN = {"sources", "dynamic_pad", "bucket_boundaries"}
# Values a processor's statements read that lowering derives from its arguments.
DERIVED = {"shape", "stddev", "image_axis", "noise", "colors", "lowest"}

MODEL = """\
model:
  classifier:
    n_classes: 10
    loss: SoftmaxCrossEntropy
    graph:
      input_layers: image
      layers:
        - Flatten
        - Dense: {units: 10}
"""
TRAIN = """\
train:
  data_pipeline:
    TFRecordImagePipeline:
      data_files: [train.tfrecord]
      meta_data_file: meta.json
"""
CSV_MODEL = MODEL.replace("input_layers: image", "input_layers: x")
CSV = """\
train:
  data_pipeline:
    CsvPipeline:
      data_files: [train.csv]
      label_column: y
"""


def config(*blocks: str, model: str = MODEL, train: str = TRAIN) -> str:
    """A minimal classifier with `model`/`train` replaced and `blocks` added."""
    head = "version: 1\nproject:\n  name: t\n"
    return head + model + train + "".join(textwrap.dedent(b) for b in blocks)


def lower(text: str) -> ir.Experiment:
    experiment = lower_document(load_text(text, "t.yaml"), "t.yaml", "")
    assert isinstance(experiment, ir.Experiment)
    return experiment


def holes(statement: str) -> set[str]:
    """The `{name}` holes of a statement."""
    return {name for _, name, _, _ in string.Formatter().parse(statement) if name}


def statements(code: tuple[Statement, ...]) -> list[str]:
    """Every statement an entry may write, each choice's included."""
    found: list[str] = []
    for statement in code:
        found += (
            list(statement[1].values()) if isinstance(statement, tuple) else [statement]
        )
    return found


def sample(schema: dict[str, Any], i: int) -> Any:
    """A valid value of an argument's schema (the i-th of an enum)."""
    schema = schema.get("anyOf", [schema])[0]
    if "enum" in schema:
        return schema["enum"][i % len(schema["enum"])]
    if schema.get("type") == "array":
        return [sample(schema["items"], i) for _ in range(schema.get("minItems", 1))]
    if schema.get("type") == "integer":
        return max(schema.get("minimum", 1), 1)
    return 0.5


# ------------------------------------------------------------ pipelines


def macros(template: str) -> set[str]:
    return set(re.findall(r"{% macro (\w+)\(", (TEMPLATES / template).read_text()))


def reader_macros() -> set[str]:
    """The macros of readers.py.j2 and of the reader templates it imports and exports."""
    text = (TEMPLATES / "readers.py.j2").read_text()
    found = macros("readers.py.j2")
    for file, alias in re.findall(r'{% import "(\w+\.py\.j2)" as (\w+) %}', text):
        exported = set(re.findall(r"{% set (\w+) = " + alias + r"\.(\w+) %}", text))
        assert all(name == macro for name, macro in exported)
        assert {macro for _, macro in exported} <= macros(file)
        found |= {name for name, _ in exported}
    return found


@pytest.mark.parametrize("name", sorted(registry.PIPELINES))
def test_a_pipeline_entry_names_its_reader_and_fields(name: str) -> None:
    kind = registry.PIPELINES[name]
    assert isinstance(kind, PipelineKind)
    # The reader and its tables are macros of readers.py.j2 of the same names.
    assert {kind.reader, *kind.constants} <= reader_macros()
    fields = set(kind.params)
    assert kind.files in kind.required
    assert kind.targets is None or kind.targets in kind.required
    assert set(kind.reader_args) <= fields | GIVEN
    assert ("sources" in kind.reader_args) == (kind.targets is not None)
    assert kind.features_field is None or kind.features_field in kind.reader_args
    assert kind.features is None or kind.features_field is None
    assert kind.meta_data == ("meta_data_file" in kind.required)
    assert set(kind.modules) <= set(sys.stdlib_module_names)
    assert not kind.source or kind.ids  # a source sequence is token ids


def test_readers_and_tables_are_named_once() -> None:
    readers = [kind.reader for kind in registry.PIPELINES.values()]
    assert len(set(readers)) == len(readers)
    named = set(readers) | {c for k in registry.PIPELINES.values() for c in k.constants}
    # readers.py.j2 holds the readers and their tables, and nothing else.
    assert reader_macros() == named


def test_templates_name_no_kind() -> None:
    """The templates test the IR's flags, never a kind's name."""
    for template in ("data.py.j2", "readers.py.j2", "processors.py.j2", "loop.py.j2", "run.py.j2"):
        text = (TEMPLATES / template).read_text()
        for name in [*registry.PIPELINES, *registry.FEATURE_PROCESSORS]:
            assert f'"{name}"' not in text, (template, name)
    assert "op.kind" not in (TEMPLATES / "processors.py.j2").read_text()


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_the_ir_carries_the_entry(example: Path) -> None:
    if "data_pipeline" not in yaml.safe_load(example.read_text()).get("train", {}):
        pytest.skip("an RL example")
    experiment = lower(example.read_text())
    for pipe in [experiment.train, experiment.eval]:
        if pipe is None:
            continue
        kind = registry.PIPELINES[pipe.kind]
        assert pipe.reader == kind.reader
        assert pipe.constants == kind.constants
        # bucket_boundaries only when given: the reader's default is none.
        expected = [a for a in kind.reader_args if a != "bucket_boundaries" or pipe.bucket_boundaries]
        assert [key for key, _ in pipe.options] == expected
        assert (pipe.meta_data_file is not None) == kind.meta_data
        assert (pipe.records, pipe.ids, pipe.source, pipe.images) == (
            kind.records,
            kind.ids,
            kind.source,
            kind.images,
        )
        assert pipe.cache <= kind.caches
        assert lowering.pipeline_features(pipe) == pipe.features
        if kind.features is not None:
            assert pipe.features == kind.features
    assert set(experiment.train.modules) <= set(experiment.stdlib_imports)
    assert experiment.uses_numpy == experiment.train.numpy


def test_lowering_reads_the_traits_of_the_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A changed entry changes the script: cache, modules and numpy come from it."""
    text = config(model=CSV_MODEL, train=CSV + "      cache: true\n")
    before = lower(text)
    assert before.train.cache and "csv" in before.stdlib_imports
    assert "gzip" not in before.stdlib_imports and not before.uses_numpy
    kind = registry.PIPELINES["CsvPipeline"]
    changed = replace(kind, caches=False, modules=("csv", "gzip"), numpy=True)
    monkeypatch.setitem(registry.PIPELINES, "CsvPipeline", changed)
    after = lower(text)
    assert not after.train.cache
    assert {"csv", "gzip"} <= set(after.stdlib_imports) and after.uses_numpy
    script = render(after)
    assert "import gzip\n" in script and "cache=True" not in script


def test_a_reader_is_called_with_its_arguments_in_order() -> None:
    text = config(model=CSV_MODEL, train=CSV + "      field_delim: ';'\n")
    script = render(lower(text))
    call = script.split("return csv_dataset(\n", 1)[1].split(")\n", 1)[0]
    assert call.split("\n")[:4] == [
        "        TRAIN_DATA_FILES,",
        '        label_column="y",',
        "        feature_columns=None,",
        '        field_delim=";",',
    ]


# ------------------------------------------------------------ processors


def processor_macros() -> str:
    return (TEMPLATES / "processors.py.j2").read_text()


@pytest.mark.parametrize("name", sorted(registry.FEATURE_PROCESSORS))
def test_a_processor_entry_writes_its_statements(name: str) -> None:
    entry = registry.FEATURE_PROCESSORS[name]
    assert isinstance(entry, ProcessorKind)
    assert entry.code
    fields = set(entry.params) | DERIVED | {"x", "seed"}
    for statement in entry.code + entry.random_code:
        if isinstance(statement, tuple):
            assert statement[0] in entry.params
    written = statements(entry.code) + statements(entry.random_code)
    for line in written:
        assert holes(line) <= fields, (name, line)
        assert line.startswith("{x} ")  # each statement assigns the feature
    # Random numbers come from the op's seed, only where it draws them.
    seeded = [line for line in written if "{seed}" in line]
    if entry.random:
        assert seeded and not entry.random_code
    else:
        assert all(s in statements(entry.random_code) for s in seeded)
        assert bool(entry.random_code) == ("is_random" in entry.params)
    if entry.helper is not None:
        assert f"def {entry.helper}(" in processor_macros()
        assert all(entry.helper in line for line in seeded)


@pytest.mark.parametrize("name", sorted(registry.FEATURE_PROCESSORS))
def test_every_processor_lowers_to_python(name: str) -> None:
    entry = registry.FEATURE_PROCESSORS[name]
    args = {p: sample(entry.params[p], i) for i, p in enumerate(entry.required)}
    if "is_random" in entry.params:
        args["is_random"] = True
        # The top of a random range (contrast_factor_max...), above its sample 0.5.
        args.update({p: 1.0 for p in entry.params if p.endswith("_max")})
    item = yaml.safe_dump({name: args or None}, default_flow_style=True).strip()
    block = f"      feature_processors:\n        image:\n          layers: [{item}]\n"
    experiment = lower(config(train=TRAIN + block))
    (op,) = experiment.train.processors[0].ops
    assert op.statements and op.random == (entry.random or "is_random" in args)
    assert op.helper == (entry.helper if op.random else None)
    for line in op.statements:
        tree = ast.parse(line)
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        assert names <= {"tf", "image", "seed", *filter(None, [op.helper])}, line
    compile(render(experiment), "t.py", "exec")


def test_helpers_are_defined_only_when_used() -> None:
    train = "      feature_processors:\n        image:\n          layers: [RandomCrop: {height: 2, width: 2}]\n"  # fmt: skip
    evaluation = TRAIN.replace("train:", "eval:") + (
        "      feature_processors:\n        image:\n"
        "          layers: [{Flip: {is_random: true}}, {Rotate90: {k: 2}}]\n"
    )
    script = render(lower(config(evaluation, train=TRAIN + train)))
    defined = set(re.findall(r"^def (random_\w+)\(", script, re.M))
    assert defined == {"random_crop", "random_flip"}


@pytest.mark.parametrize(
    ("op", "code", "hint"),
    [
        ("{AdjustContrast: {contrast_factor: 0.5, is_random: true}}", "missing-key",
         "add contrast_factor_max: a factor above contrast_factor"),
        ("{AdjustSaturation: {saturation_factor: 1.0, saturation_factor_max: 0.5, is_random: true}}",
         "out-of-range", "draw from a range such as saturation_factor: 0.5, saturation_factor_max: 1.5"),
        ("{AdjustHue: {delta: 0.8, is_random: true}}", "out-of-range",
         "the hue moves by up to delta either way: e.g. delta: 0.1"),
    ],
    ids=["no-max", "max-below", "hue-above-half"],
)  # fmt: skip
def test_a_random_adjust_op_needs_a_range_tf_image_took(op: str, code: str, hint: str) -> None:
    """2017's random_contrast / random_saturation / random_hue refused these ranges too."""
    from plxgen.errors import ConfigError

    block = f"      feature_processors:\n        image:\n          layers: [{op}]\n"
    with pytest.raises(ConfigError) as raised:
        lower(config(train=TRAIN + block))
    (error,) = raised.value.diagnostics
    assert (error.code, error.hint) == (code, hint)


@pytest.mark.parametrize("kind", ["NumpyPipeline", "CsvPipeline", "TFRecordTabularPipeline"])
def test_bucket_boundaries_where_nothing_has_a_length(kind: str) -> None:
    """plxgen's own pipelines of examples without a length refuse bucket_boundaries
    (2017's pipelines that cannot bucket are warned of it by the policy table)."""
    from plxgen.errors import ConfigError
    from plxgen.schema import legacy

    assert legacy.key_rule("pipeline", kind, "bucket_boundaries") is None
    assert not registry.PIPELINES[kind].buckets
    spec: dict[str, Any] = {
        "NumpyPipeline": {"data_files": ["d.npz"]},
        "CsvPipeline": {"data_files": ["d.csv"], "label_column": "y"},
        "TFRecordTabularPipeline": {"data_files": ["d.tfrecord"], "meta_data_file": "m.json"},
    }[kind]
    train = yaml.safe_dump({"train": {"data_pipeline": {kind: {**spec, "bucket_boundaries": [4, 8]}}}})
    with pytest.raises(ConfigError) as raised:
        lower(config(model=CSV_MODEL, train=train))
    (error,) = raised.value.diagnostics
    assert error.code == "not-sequences" and error.hint
