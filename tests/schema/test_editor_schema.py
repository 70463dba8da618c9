"""The editor schema (`plxgen schema`, `plxgen init`) accepts a file as written iff the compiler does.

It is checked with fastjsonschema, a validator independent of the `jsonschema`
package the compiler validates with, over every generated example, the
corpus of this folder (2017 spellings, templates, operators) and the
broken-file goldens. The only disagreements allowed are the files the
compiler rejects for what a JSON Schema of the file as written cannot see:
listed, with why, in COMPILER_ONLY; and files that do not load as YAML at
all (LOADER).
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import pytest

from plxgen.compiler import check, read_config
from plxgen.compiler.validate import editor_schema_text, schema_text
from plxgen.errors import ConfigError
from plxgen.schema import build as schemagen
from tests.conftest import ROOT, configs_in

fastjsonschema = pytest.importorskip("fastjsonschema")

CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(
    [
        *configs_in(ROOT / "generated_examples", "**/*.yaml"),
        *CORPUS.glob("*.yaml"),
        *(ROOT / "tests" / "broken").glob("*.yaml"),
        *(ROOT / "tests" / "legacy_2017").glob("*.yaml"),
    ]
)

_TEMPLATE = "the value is known only once the template is rendered"
_MATRIX = "the matrix's values and axes are checked against each other and their use"
_GRAPH = "how the layers connect (names, inputs, outputs, units) is checked on the built graph"
# Broken goldens the compiler rejects and the editor schema accepts: semantic
# checks of lowering and of the front end that a schema of the file as written
# does not express.
COMPILER_ONLY: dict[str, str] = {
    # The value of an expression.
    "for_len_not_a_number": _TEMPLATE,
    "matrix_value_rejected": _TEMPLATE,
    "template_huge_string": _TEMPLATE + " (its size)",
    "template_python_internals": _TEMPLATE + " (the sandbox)",
    "template_syntax_error": _TEMPLATE + " (it is parsed by Jinja)",
    "template_undefined_name": _TEMPLATE + " (names in declarations / matrix)",
    "template_wrong_type": _TEMPLATE,
    # The matrix.
    "matrix_bad_range": _MATRIX + " (stop > start)",
    "matrix_declaration_clash": _MATRIX + " (a name both a declaration and an axis)",
    "matrix_section": _MATRIX + " (an axis no expression uses)",
    "matrix_too_many_combinations": _MATRIX + " (the product of the axes' sizes)",
    # The graph.
    "concatenate_one_input": _GRAPH,
    "generator_decoder_inputs": _GRAPH,
    "graph_input_not_feature": _GRAPH + " (against the pipeline's features)",
    "inbound_unknown_layer": _GRAPH,
    "output_units_mismatch": _GRAPH + " (against n_classes)",
    "second_output_units": _GRAPH + " (against n_classes)",
    "seq2seq_pipeline_mistakes": _GRAPH + " (against the pipeline's features)",
    "rl_graph_input_not_state": _GRAPH + " (against the environment)",
    "rl_layer_named_like_a_head": _GRAPH + " (against the agent's heads)",
    "image_without_cast": _GRAPH + " (against the dtype the pipeline's processors give)",
    # Rules between fields of different sections, or between values.
    "bucket_boundaries_order": "the boundaries must increase strictly",
    "environment_n_workers": "n_workers must equal the count of run_config.cluster's workers",
    "rl_first_update_below_batch": "first_update is compared with the memory's batch_size",
    "bucket_boundaries_on_images": "the pipeline kind decides whether sequences exist",
    "eval_pipeline_kind": "eval's pipeline must be train's kind",
    "image_op_on_csv": "the pipeline kind decides whether images exist",
    "jit_compile_with_replicas": "jit_compile against environment.replicas",
    "rl_dqn_with_batch_memory": "the model kind decides the memory kind",
    "rl_dqn_with_ou_noise": "the model kind decides the exploration kind",
    "rl_environment_options": "an RL model rules out distribution options",
    "rl_vpg_with_q_keys": "the model kind decides the train keys",
}
# Broken goldens that are not a YAML mapping: nothing for a schema to check.
LOADER = {
    "billion_laughs",
    "duplicate_key",
    "empty",
    "not_utf8",
    "tab_indentation",
    "template_unquoted",
    "unclosed_bracket",
    "yaml_tag",
}


@lru_cache(maxsize=1)
def editor_validator() -> Callable[[Any], Any]:
    """fastjsonschema's validator of the committed editor schema (defaults not filled in)."""
    schema = json.loads(editor_schema_text())
    validate: Callable[[Any], Any] = fastjsonschema.compile(schema, use_default=False)
    return validate


def schema_accepts(data: Any) -> bool:
    try:
        editor_validator()(copy.deepcopy(data))
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def test_committed_editor_schema_is_up_to_date() -> None:
    assert editor_schema_text() == schemagen.render_schema(
        editor=True
    ), "run: python -m plxgen.schema.build"


def test_the_strict_schema_stays_the_compilers() -> None:
    strict = json.loads(schema_text())
    editor = json.loads(editor_schema_text())
    assert strict["$id"] != editor["$id"]
    assert "template" in editor["definitions"]
    assert "template" not in strict["definitions"]


def test_legacy_model_is_deprecated_with_a_pointer_to_upgrade() -> None:
    model = json.loads(editor_schema_text())["properties"]["model"]
    legacy = [b for b in model["anyOf"] if "deprecationMessage" in b]
    assert len(legacy) == 3
    for branch in legacy:
        assert "plxgen upgrade" in branch["deprecationMessage"]
        assert (
            "plxgen upgrade" in branch["properties"]["model_type"]["deprecationMessage"]
        )


@pytest.mark.parametrize("config", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_editor_schema_accepts_a_file_iff_the_compiler_does(config: Path) -> None:
    try:
        doc = read_config(config)
    except ConfigError:
        assert config.stem in LOADER, f"{config} does not load: add it to LOADER"
        return
    assert config.stem not in LOADER
    try:
        check(doc)
        compiled = True
    except ConfigError:
        compiled = False
    accepted = schema_accepts(doc.data)
    if config.stem in COMPILER_ONLY:
        assert (
            not compiled and accepted
        ), f"{config}: no longer a compiler-only rejection; remove it from COMPILER_ONLY"
        return
    assert accepted == compiled, (
        f"{config}: the compiler {'accepts' if compiled else 'rejects'} it, "
        f"the editor schema {'accepts' if accepted else 'rejects'} it"
    )


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ({"Dense": {"units": "{{ n }}"}}, True),
        ({"Dense": {"units": "n"}}, False),  # no template: a wrong type
        (
            {"Dense": {"units": "{% if a %}1{% endif %}"}},
            False,
        ),  # statements are rejected
        ({"Dense": {"unit": "{{ n }}"}}, False),  # a misspelt key beside a template
        ({"Dense": {"units": 4, "activation": "{{ act }}"}}, True),
        ({"Dense": {"units": 4, "activation": "relux"}}, False),
        ({"Dens": {"units": 4}}, False),
        ({"Dense": {"units": 4, "kernel_initializer": "Ones"}}, True),  # a 2017 name
        ({"Dense": {"units": 4, "kernel_initializer": "Onez"}}, False),
        (
            {"{{ kind }}": {"units": 4}},
            True,
        ),  # a templated name is checked once rendered
        ({"for": {"len": 2, "do": {"Dense": {"units": 4}}}}, True),
        ({"for": {"len": "two", "do": {"Dense": {"units": 4}}}}, False),
        ({"for": {"len": 2, "do": [{"Dense": {"unit": 4}}]}}, False),
        ({"for": {"length": 2, "do": []}}, False),
        ({"if": {"cond": "{{ d }} > 0", "do": [{"Dropout": {"rate": 0.5}}]}}, True),
        (
            {
                "if": {
                    "cond": True,
                    "do": None,
                    "else_do": {"if": {"cond": 1, "do": "{{ x }}"}},
                }
            },
            True,
        ),
        ({"if": {"cond": True, "then": []}}, False),
    ],
)
def test_a_layer_as_written(value: Any, accepted: bool) -> None:
    doc = read_config(ROOT / "generated_examples" / "lenet.yaml")
    data = copy.deepcopy(doc.data)
    data["model"]["classifier"]["graph"]["layers"][0] = value
    assert schema_accepts(data) == accepted


def test_rules_between_fields_of_one_mapping() -> None:
    """What lowering checks between fields of one mapping, editors flag too."""
    data = read_config(ROOT / "generated_examples" / "lenet.yaml").data
    assert schema_accepts(data)
    classifier = data["model"]["classifier"]
    adam = classifier["optimizer"]["Adam"]
    for rate, accepted in (
        (0.5, True),
        ("{{ rate }}", True),
        (0, False),
        (None, False),
    ):
        changed = copy.deepcopy(data)
        target = changed["model"]["classifier"]["optimizer"]["Adam"]
        target.pop("decay_rate")
        if rate is not None:
            target["decay_rate"] = rate
        assert schema_accepts(changed) == accepted, rate
    assert adam["decay_type"] == "exponential_decay"
    del classifier["n_classes"]
    assert not schema_accepts(data)
    classifier["one_hot_encode"] = "{{ one_hot }}"
    assert schema_accepts(data)


def _inlined(node: Any, definitions: dict[str, Any]) -> Any:
    """node with every reference to a shared definition replaced by its body."""
    if isinstance(node, list):
        return [_inlined(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref", "")
    if set(node) == {"$ref"} and ref.startswith("#/definitions/shared_"):
        return _inlined(definitions[ref.rsplit("/", 1)[-1]], definitions)
    return {key: _inlined(value, definitions) for key, value in node.items()}


def _annotations(node: Any, found: set[str]) -> set[str]:
    """Every description, example, default and deprecation message under node."""
    if isinstance(node, list):
        for item in node:
            _annotations(item, found)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key in ("description", "markdownDescription", "deprecationMessage", "examples", "default"):
                found.add(f"{key}: {json.dumps(value, sort_keys=True)}")
            _annotations(value, found)
    return found


def test_the_editor_schema_is_small_and_loses_nothing() -> None:
    text = editor_schema_text()
    assert len(text.encode()) < 1_000_000, "an editor schema to commit beside a config"
    committed = json.loads(text)
    unshared = schemagen.build_schema(editor=True)  # each part written where it applies
    # Every description, example and default is still there, and only moved:
    assert _annotations(committed, set()) == _annotations(unshared, set())
    definitions = committed.pop("definitions")
    kept = {k: v for k, v in definitions.items() if not k.startswith("shared_")}
    assert len(kept) < len(definitions)  # it does share parts
    inlined = _inlined({**committed, "definitions": kept}, definitions)
    assert inlined == unshared  # the same schema once every shared part is back in place
