"""Every key of every 2017 schema class is honoured, warned about, or rejected as 2017 rejected it.

`vocabulary_2017.md` lists the classes of polyaxon-schemas 0.0.x with every key
each accepted. For each class written in an experiment file, a config using
all its keys (with the current schema's example values, or a plausible one)
is validated and lowered; each key lands in the category the policy table
(plxgen.schema.legacy) gives it: `honoured` (accepted by the schema, or
renamed), `warned` (accepted with a located warning). A key in no category
fails. Names: renamed or rejected with a hint, as the table says.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from plxgen.compiler import lower_document
from plxgen.compiler.load import load_text
from plxgen.compiler.validate import schema_text
from plxgen.errors import ConfigError, Diagnostic, collecting_warnings
from plxgen.schema import legacy

VOCABULARY = Path(__file__).with_name("vocabulary_2017.md")

# Classes that are records of the 2017 platform's API, never part of an
# experiment file: 2017's file format refused them too.
NOT_IN_A_FILE = {"clusters", "data", "user", "version"}
NOT_IN_A_FILE_CLASSES = {("project", "experiment_group"), ("processing.pipelines", "pipeline"),
                         ("layers.merge", "Merge"), ("models", "model"), ("operators", "for"),
                         ("operators", "if"), ("processing.feature_processors", "FeatureProcessors")}  # fmt: skip


NULLABLE: set[tuple[str, str, str]] = (
    set()
)  # (section, class, key): 2017 took an explicit null


def parse() -> dict[tuple[str, str], dict[str, str]]:
    """(section, class) -> {key: marshmallow type} from the vocabulary file."""
    classes: dict[tuple[str, str], dict[str, str]] = {}
    section = ""
    for line in VOCABULARY.read_text().splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        found = re.match(r"- \*\*(\w+)\*\*: (.*)$", line)
        if not found:
            continue
        name, rest = found.groups()
        keys = {
            m.group(1): m.group(2) for m in re.finditer(r"`(\w+)`: ([A-Za-z]+)\(", rest)
        }
        if name == "session" and "allow_growth" in keys:
            name = "gpu_options"  # two classes of settings are called session
        classes[(section, name)] = keys
        for m in re.finditer(r"`(\w+)`: [A-Za-z]+\(([^`]*)", rest):
            if "allow_none=True" in m.group(2):
                NULLABLE.add((section, name, m.group(1)))
    return classes


CLASSES = parse()
# Layers that Keras 3 removed, refused with what to write instead (schemas/keras_layers.json),
# unless the table writes them as a current name.
REMOVED = {
    name: hint
    for name, hint in json.loads(
        (Path(__file__).parents[2] / "schemas" / "keras_layers.json").read_text()
    )["removed"].items()
    if legacy.name_rule("layer", name) is None
}

BASE: dict[str, Any] = {
    "version": 1,
    "project": {"name": "p"},
    "model": {
        "classifier": {
            "one_hot_encode": True,
            "n_classes": 10,
            "graph": {
                "input_layers": "image",
                "layers": [
                    {"Flatten": {"name": "hidden"}},
                    {"Dense": {"units": 10, "name": "logits"}},
                ],
                "output_layers": "logits",
            },
        }
    },
    "train": {
        "train_steps": 2,
        "data_pipeline": {
            "TFRecordImagePipeline": {
                "batch_size": 4,
                "data_files": ["a.tfrecord"],
                "meta_data_file": "m.json",
                "feature_processors": {
                    "image": {"layers": [{"Standardization": None}]}
                },
            }
        },
    },
}
RL = {
    "graph": {"input_layers": "state", "layers": [{"Dense": {"units": 4}}]},
}
RL_TRAIN = {
    "train_steps": 10,
    "env": {"Gym": {"env_id": "CartPole-v1"}},
    "memory": {"Memory": {"size": 10, "batch_size": 2}},
}
_SCOPES = {
    "losses": "loss", "metrics": "metric", "optimizers": "optimizer", "regularizations": "regularizer",
    "initializations": "initializer", "constraints": "constraint", "bridges": "bridge",
    "processing.image": "image_op", "rl.explorations": "exploration", "rl.memories": "memory",
    "project": "project", "train": "train", "eval": "eval", "graph": "graph", "logging": "logging",
    "run_exec": "file", "hooks": "hooks", "matrix": "matrix", "processing.pipelines": "pipeline",
    "models": "model", "rl.environments": "env",
}  # fmt: skip
_SETTINGS = {"settings": "settings", "environment": "environment", "run": "run_config", "cluster": "cluster",
             "session": "session", "gpu_options": "gpu_options", "pod_resources": "resources",
             "resources": "limits"}  # fmt: skip


def scope_of(section: str, name: str) -> str:
    if section.startswith("layers."):
        return "layer"
    if section == "settings":
        return _SETTINGS[name]
    return _SCOPES[section]


def place(
    section: str, name: str, args: dict[str, Any]
) -> tuple[dict[str, Any], tuple[str | int, ...]]:
    """A config holding the class with args, and the path of its arguments."""
    c = copy.deepcopy(BASE)
    m = c["model"]["classifier"]
    layer = m["graph"]["layers"]
    scope = scope_of(section, name)
    pipeline = c["train"]["data_pipeline"]["TFRecordImagePipeline"]
    if scope == "layer":
        layer.insert(1, {name: args})
        return c, ("model", "classifier", "graph", "layers", 1, name)
    if scope in ("loss", "optimizer"):
        m[scope] = {name: args}
        return c, ("model", "classifier", scope, name)
    if scope == "metric":
        m["metrics"] = [{name: args}]
        return c, ("model", "classifier", "metrics", 0, name)
    if scope in ("regularizer", "initializer", "constraint"):
        layer[1]["Dense"][f"kernel_{scope}"] = {name: args}
        return c, (
            "model",
            "classifier",
            "graph",
            "layers",
            1,
            "Dense",
            f"kernel_{scope}",
            name,
        )
    if scope == "image_op":
        pipeline["feature_processors"]["image"]["layers"] = [{name: args}]
        return c, (
            "train",
            "data_pipeline",
            "TFRecordImagePipeline",
            "feature_processors",
            "image",
            "layers",
            0,
            name,
        )
    if scope == "pipeline":
        c["train"]["data_pipeline"] = {name: args}
        m["graph"]["input_layers"] = FEATURES.get(name, "image")
        return c, ("train", "data_pipeline", name)
    if scope == "project":
        c["project"] = {"name": "p", **args}
        return c, ("project",)
    if scope == "train":
        if "steps" in args:
            del c["train"]["train_steps"]
        c["train"].update(args)
        return c, ("train",)
    if scope == "eval":
        c["eval"] = args
        return c, ("eval",)
    if scope == "graph":
        m["graph"].update(args)
        return c, ("model", "classifier", "graph")
    if scope == "model":
        if name != "Classifier":
            m.pop("one_hot_encode")
            m.pop("n_classes")
            m["graph"]["layers"][1]["Dense"]["units"] = 1
        c["model"] = {name.lower(): {**m, **args}}
        if name != "Classifier":
            graph = c["model"][name.lower()]["graph"] = copy.deepcopy(m["graph"])
            graph["layers"][1]["Dense"]["units"] = 1
        if name == "Generator":
            c["model"]["generator"].update(
                encoder={"input_layers": "image", "layers": [{"Dense": {"units": 4}}]},
                decoder={"layers": [{"Dense": {"units": 4}}]},
                bridge="NoOpBridge",
            )
        return c, ("model", name.lower())
    if scope == "logging":
        c["settings"] = {"logging": args}
        return c, ("settings", "logging")
    if scope == "settings":
        c["settings"] = args
        return c, ("settings",)
    if scope == "environment":
        c["environment"] = args
        return c, ("environment",)
    if scope == "run_config":
        c["environment"] = {"run_config": args}
        return c, ("environment", "run_config")
    if scope == "cluster":
        c["environment"] = {"run_config": {"cluster": args}}
        return c, ("environment", "run_config", "cluster")
    if scope == "session":
        c["environment"] = {"run_config": {"session": args}}
        return c, ("environment", "run_config", "session")
    if scope == "gpu_options":
        c["environment"] = {"run_config": {"session": {"gpu_options": args}}}
        return c, ("environment", "run_config", "session", "gpu_options")
    if scope == "resources":
        c["environment"] = {"resources": args}
        return c, ("environment", "resources")
    if scope == "limits":
        c["environment"] = {"resources": {"cpu": args}}
        return c, ("environment", "resources", "cpu")
    if scope == "bridge":
        c["model"] = {
            "generator": {
                "encoder": {
                    "input_layers": "image",
                    "layers": [{"Dense": {"units": 4}}],
                },
                "decoder": {"layers": [{"Dense": {"units": 4}}]},
                "bridge": {name: args},
            }
        }
        return c, ("model", "generator", "bridge", name)
    if scope in ("exploration", "memory", "env"):
        kind = {"OrnsteinUhlenbeck": "naf", "BatchMemory": "vpg"}.get(name, "dqn")
        c["model"] = {kind: copy.deepcopy(RL)}
        c.pop("eval", None)
        c["train"] = copy.deepcopy(RL_TRAIN)
        if kind == "naf":
            c["train"]["env"] = {"Gym": {"env_id": "Pendulum-v1"}}
        if kind == "vpg":
            c["train"]["memory"] = {"BatchMemory": {"batch_size": 2}}
        key = {"exploration": None, "memory": "memory", "env": "env"}[scope]
        if key is None:
            c["model"][kind]["exploration"] = {name: args}
            return c, ("model", kind, "exploration", name)
        c["train"][key] = {name: args}
        return c, ("train", key, name)
    if scope == "hooks":
        c["train"]["hooks"] = [{name: args}]
        return c, ("train", "hooks", 0, name)
    if scope == "matrix":
        c["matrix"] = {"lr": args}
        return c, ("matrix", "lr")
    if scope == "file":
        c["run"] = args
        return c, ("run",)
    raise AssertionError(f"no place for {section}.{name}")


def compile_diagnostics(config: dict[str, Any]) -> list[Diagnostic]:
    """The errors and warnings of validating and lowering a config."""
    doc = load_text(yaml.safe_dump(config), "c.yaml")
    with collecting_warnings() as found:
        try:
            lower_document(doc, "c.yaml", "")
            errors: list[Diagnostic] = []
        except ConfigError as exc:
            errors = exc.diagnostics
    return errors + found.found


def expected(section: str, name: str, key: str) -> str:
    """The category the policy gives a key: honoured (the schema's own key, or
    renamed), warned (ignored, with a warning)."""
    scope = scope_of(section, name)
    if scope == "hooks":
        return "warned"  # train.hooks as a whole is ignored with a warning
    if scope == "file":
        return "warned"  # the `run:` section as a whole
    rule = legacy.name_rule(scope, name)
    current = rule.to if rule else name.lower() if scope == "model" else name
    if rule and key in rule.keys:
        return "honoured"
    found = legacy.key_rule(scope, current, key)
    if found is None:
        return "honoured"
    return "honoured" if found.action in ("honour", "rename") else "warned"


# Values the schema's examples do not give (or give for another context): by class and key, then key.
VALUES: dict[tuple[str, str] | str, Any] = {
    "loss": {"MeanSquaredError": None}, "optimizer": {"Adam": None}, "metrics": ["Accuracy"],
    # A model of values takes no metric of classes.
    ("Regressor", "metrics"): ["MeanSquaredError"], ("Generator", "metrics"): ["MeanSquaredError"],
    "summaries": "all", "graph": BASE["model"]["classifier"]["graph"], "bridge": "NoOpBridge",
    "encoder": {"input_layers": "image", "layers": [{"Dense": {"units": 4}}]},
    "decoder": {"layers": [{"Dense": {"units": 4}}]}, "worker_configs": [], "ps_configs": [],
    "data_files": ["a.tfrecord"], "files": ["a.tfrecord"], "source_files": ["a.txt"], "target_files": ["b.txt"],
    "master": ["localhost:2222"], "worker": ["localhost:2223"], "ps": ["localhost:2224"],
    ("ConvertColorSpace", "to_space"): "grayscale", ("Memory", "size"): 100, ("BatchMemory", "size"): 100,
    ("settings", "run_type"): "local", ("ImageCaptioningPipeline", "image_format"): "png",
    "level": "INFO", ("Classifier", "n_classes"): 10, "formatter": "%(message)s",
    ("eval", "data_pipeline"): BASE["train"]["data_pipeline"], ("train", "data_pipeline"): BASE["train"]["data_pipeline"],
    ("graph", "layers"): BASE["model"]["classifier"]["graph"]["layers"], ("graph", "input_layers"): "image",
    ("TFRecordSequencePipeline", "feature_processors"): {},
    ("ParallelTextPipeline", "feature_processors"): {},
    ("TFRecordSourceSequencePipeline", "feature_processors"): {},
    "output_layer": "logits", "values": ["logits", 0, 0],  # the graph's output
}  # fmt: skip
# The feature a model reads from each pipeline that has no `image`.
FEATURES = {
    "ParallelTextPipeline": "source",
    "TFRecordSourceSequencePipeline": "source",
    "TFRecordSequencePipeline": "tokens",
}
# Two 2017 spellings of one setting: each is tried in a config of its own.
SEPARATE = {("run", "save_checkpoints_secs"), ("gpu_options", "per_process_gpu_memory_fraction"),
            ("train", "steps")}  # fmt: skip

_PLAUSIBLE = {"Int": 2, "Float": 0.5, "Number": 0.5, "Bool": True, "Boolean": True, "Str": "x",
              "DType": "float32", "Tensor": "image", "List": [1], "ObjectOrListObject": 2,
              "Nested": {}, "StrOrFct": "relu", "UUID": "x", "DateTime": "x", "Raw": 1}  # fmt: skip


def _properties(scope: str, name: str) -> dict[str, Any]:
    """The current schema's properties of a scope's object (empty when none)."""
    schema = json.loads(schema_text())
    anchor = legacy._ANCHORS.get(scope)
    section = legacy._SECTION_ANCHORS.get(scope)
    for mapping in legacy._mappings(schema):
        props = mapping["properties"]
        if anchor and anchor in props and isinstance(props.get(name), dict):
            return dict(props[name].get("properties", {}))
        if section and all(k in props for k in section):
            return dict(props)
    return {}


def value_for(section: str, name: str, key: str, kind: str) -> Any:
    """A plausible value: the schema's example for a key it has, else by its 2017 type."""
    scope = scope_of(section, name)
    rule = legacy.name_rule(scope, name)
    current = rule.to if rule else name
    target = rule.keys.get(key, key) if rule else key
    found = legacy.key_rule(scope, current, key)
    if found and found.action == "rename":
        target = found.to
    for probe in ((name, key), key):
        if probe in VALUES:
            return copy.deepcopy(VALUES[probe])
    if key in ("inbound_nodes",) and scope == "layer":
        if section == "layers.merge":
            return [["hidden", 0, 0], "image"]
        return [["hidden", 0, 0]]  # the Keras 2 node form
    if key == "output_layers":
        return [["logits", 0, 0]]
    prop = _properties(scope, current).get(target)
    if prop and (found is None or found.action in ("rename", "honour")):
        if prop.get("examples"):
            return prop["examples"][0]
        if prop.get("default") is not None:
            return prop["default"]
    value = _PLAUSIBLE.get(kind, 1)
    if found and value in found.quiet:
        value = not value if isinstance(value, bool) else value
    return value


def cases() -> Iterator[Any]:
    for (section, name), keys in CLASSES.items():
        if section in NOT_IN_A_FILE or (section, name) in NOT_IN_A_FILE_CLASSES:
            continue
        yield pytest.param(section, name, keys, id=f"{section}.{name}")


@pytest.mark.parametrize(("section", "name", "keys"), list(cases()))
def test_every_key_has_a_category(
    section: str, name: str, keys: dict[str, str]
) -> None:
    written = name.lower() if section == "models" else name
    if written in legacy.REJECTED or name in REMOVED:
        config, path = place(section, name, {})
        errors = [d for d in compile_diagnostics(config) if d.severity == "error"]
        hint = legacy.REJECTED.get(written) or REMOVED[name]
        assert any(d.hint == hint for d in errors), errors
        return
    together = {k: t for k, t in keys.items() if (name, k) not in SEPARATE}
    diagnostics = []
    for group in [together] + [{k: keys[k]} for k in keys if k not in together]:
        args = {key: value_for(section, name, key, kind) for key, kind in group.items()}
        config, path = place(section, name, args)
        diagnostics += compile_diagnostics(config)
    errors = [d for d in diagnostics if d.severity == "error"]
    assert not errors, "\n".join(d.format() for d in errors)
    from plxgen.compiler.load import format_path

    where = format_path(path)
    scope = scope_of(section, name)
    whole = {"hooks": "train.hooks", "file": "run"}.get(scope)  # the section as a whole
    for key in keys:
        want = expected(section, name, key)
        warned = [
            d for d in diagnostics
            if d.severity == "warning"
            and (d.path == whole or d.path == f"{where}.{key}" or d.path.startswith((f"{where}.{key}.", f"{where}.{key}[")))
        ]  # fmt: skip
        got = "warned" if warned else "honoured"
        assert got == want, f"{section}.{name}.{key}: {got}, the policy says {want}"


def test_rejected_names_are_refused_with_their_hint() -> None:
    for name, hint in legacy.REJECTED.items():
        section = (
            "processing.pipelines" if name.endswith("Pipeline") else "layers.recurrent"
        )
        if name == "model":
            section, name = "models", "Model"
        config, _ = place(section, name, {})
        errors = [d for d in compile_diagnostics(config) if d.severity == "error"]
        assert any(d.hint == hint and d.code == "unknown-name" for d in errors), errors


def test_every_policy_entry_names_a_2017_key() -> None:
    """The table holds no key that 2017 did not have."""
    known = {key for keys in CLASSES.values() for key in keys} | {"run", "hooks"}
    for rule in legacy.KEYS:
        assert rule.key in known or rule.dropped, rule


# The 2017 classes of each scope that holds a `dropped` key.
_DROPPED_OWNERS = {"eval": [("eval", "eval")], "logging": [("logging", "logging")]}


def test_dropped_keys_were_declared_by_no_2017_class_of_their_place() -> None:
    """A `dropped` entry is a key 2017's own class did not have (marshmallow dropped it)."""
    for rule in legacy.KEYS:
        if not rule.dropped:
            continue
        assert rule.action == "ignore", rule
        owners = _DROPPED_OWNERS.get(rule.scope) or [
            (section, name)
            for section, name in CLASSES
            if section.startswith("layers.") and name in rule.names
        ]
        assert owners, rule
        for owner in owners:
            assert rule.key not in CLASSES[owner], (owner, rule.key)
    for entry in legacy.NAMES:
        assert any(name == entry.name for _, name in CLASSES), entry


def test_counts() -> None:
    """The closing numbers: keys per category over the classes of a file."""
    counts = {"honoured": 0, "warned": 0, "rejected": 0}
    for (section, name), keys in CLASSES.items():
        if (
            section in NOT_IN_A_FILE
            or (section, name) in NOT_IN_A_FILE_CLASSES
            or name in legacy.REJECTED
            or name in REMOVED
            or (section == "models" and name == "Model")
        ):
            counts["rejected"] += len(keys)
            continue
        for key in keys:
            counts[expected(section, name, key)] += 1
    assert sum(counts.values()) == sum(len(k) for k in CLASSES.values())
    print(counts)


@pytest.mark.parametrize(("section", "name", "keys"), list(cases()))
def test_an_explicit_null_is_the_default(
    section: str, name: str, keys: dict[str, str]
) -> None:
    """Every key 2017 took as null (`allow_none`) may be null: it means the default.

    A key the class cannot do without (a pipeline's files, a merge layer's
    inputs) is then missing, as it would be if it were not written.
    """
    written = name.lower() if section == "models" else name
    if written in legacy.REJECTED or name in REMOVED or section == "models":
        return
    nulls = {key: None for key in keys if (section, name, key) in NULLABLE}
    if not nulls:
        return
    args = {key: value_for(section, name, key, kind) for key, kind in keys.items()}
    args = {
        k: v for k, v in args.items() if (name, k) not in SEPARATE and k not in nulls
    }
    config, _ = place(section, name, {**args, **nulls})
    errors = [
        d for d in compile_diagnostics(config)
        if d.severity == "error"
        and not (d.code == "missing-key" and d.message.split("'")[1] in nulls)
        and not (d.code == "merge-inputs" and "inbound_nodes" in nulls)
    ]  # fmt: skip
    assert not errors, "\n".join(d.format() for d in errors)


@pytest.mark.parametrize(
    ("section", "name", "args"),
    [
        ("bridges", "LatentBridge", {"latent_dim": 2, "mean": 0.0, "stddev": 0.0}),
        ("logging", "logging", {"formatter": None, "level": None}),
        (
            "settings",
            "run",
            {"save_checkpoints_steps": None, "keep_checkpoint_max": None},
        ),
        ("train", "train", {"steps": 5}),
        ("losses", "LogLoss", {"epsilon": 0.001}),
    ],
    ids=[
        "stddev-0",
        "logging-nulls",
        "run-config-nulls",
        "train-steps",
        "log-loss-epsilon",
    ],
)
def test_values_2017_took(section: str, name: str, args: dict[str, Any]) -> None:
    config, _ = place(section, name, args)
    assert not compile_diagnostics(config)


def test_compatibility_page_is_current() -> None:
    """docs/compatibility.md holds the table the policy renders (`python -m plxgen.schema.build --docs`)."""
    page = Path(__file__).parents[2] / "docs" / "compatibility.md"
    from plxgen.schema.legacy_docs import render_docs

    assert render_docs(page.read_text()) == page.read_text()


def test_a_random_op_seed_picks_its_stream(tmp_path: Path) -> None:
    """2017's op-level `seed` is folded into the op's stream of tf_random_seed."""
    from plxgen.compiler import compile_config

    config, _ = place(
        "processing.image", "Flip", {"axis": 1, "is_random": True, "seed": 7}
    )
    source = tmp_path / "c.yaml"
    source.write_text(yaml.safe_dump(config))
    script = compile_config(source, tmp_path / "c.py", [])
    assert "tf.random.experimental.stateless_fold_in(seed, 0), 7" in " ".join(
        script.split()
    ).replace("( ", "(")


def test_strict_makes_ignored_2017_keys_errors() -> None:
    from tests.conftest import plxgen

    result = plxgen("validate", "--strict", "tests/warnings/keys_of_2017.yaml")
    assert result.returncode == 2
    assert (
        ": error: project.is_public: 'is_public' is ignored [ignored-key]"
        in result.stderr
    )
    assert result.stderr.splitlines()[-1] == "10 errors"


def test_output_layer_names_an_output_of_the_graph() -> None:
    """`output_layer` routes nothing when the graph has one output; a layer that is
    no output is an error that names the outputs."""
    config, _ = place("losses", "MeanSquaredError", {"output_layer": ["logits", 0, 0]})
    assert not compile_diagnostics(config)
    config, _ = place("metrics", "Accuracy", {"output_layer": "hidden"})
    (error,) = compile_diagnostics(config)
    assert (error.code, error.path) == (
        "unknown-output",
        "model.classifier.metrics[0].Accuracy.output_layer",
    )
    assert error.hint is not None and "(logits)" in error.hint


def _compiled(config: dict[str, Any], folder: Path) -> str:
    from plxgen.compiler import compile_config

    source = folder / "c.yaml"
    source.write_text(yaml.safe_dump(config))
    return " ".join(compile_config(source, folder / "c.py", []).split())


def test_a_2017_name_names_the_loss_the_optimizer_and_the_bridge(tmp_path: Path) -> None:
    """`name` on a loss (its metrics.json key), an optimizer and a LatentBridge (their Keras names)."""
    config, _ = place("losses", "MeanSquaredError", {"name": "squares"})
    config["model"]["classifier"]["optimizer"] = {"Adam": {"name": "my_adam"}}
    config["model"]["classifier"].update(one_hot_encode=False, n_classes=None)
    config["model"]["regressor"] = config["model"].pop("classifier")
    del config["model"]["regressor"]["one_hot_encode"], config["model"]["regressor"]["n_classes"]
    config["model"]["regressor"]["graph"]["layers"][-1]["Dense"]["units"] = 1
    assert not compile_diagnostics(config)
    script = _compiled(config, tmp_path)
    assert 'keras.metrics.Mean(name="squares")' in script
    assert 'results = {"squares": float(loss.result())}' in script
    assert 'name="my_adam"' in script
    config, _ = place("bridges", "LatentBridge", {"latent_dim": 2, "name": "code"})
    assert 'LatentBridge(latent_dim=2, mean=0.0, stddev=1.0, name="code")' in _compiled(config, tmp_path)


def test_a_name_refused_where_it_would_collide() -> None:
    config, _ = place("bridges", "LatentBridge", {"latent_dim": 2, "name": "code"})
    config["model"]["generator"]["decoder"]["layers"][0]["Dense"]["name"] = "code"
    assert [d.code for d in compile_diagnostics(config)] == ["duplicate-name"]
    config, _ = place("losses", "SoftmaxCrossEntropy", {"name": "accuracy"})
    config["model"]["classifier"]["metrics"] = ["Accuracy"]
    assert [d.code for d in compile_diagnostics(config)] == ["duplicate-metric"]
    config, _ = place("losses", "SoftmaxCrossEntropy", {"name": "learning_rate"})
    assert [d.code for d in compile_diagnostics(config)] == ["reserved-name"]


def test_2017_value_forms_are_honoured_or_refused_with_their_hint(tmp_path: Path) -> None:
    """One box written flat is that box; a flat list of 3 and a normalizer by name are refused."""
    config, _ = place("processing.image", "DrawBoundingBoxes", {"boxes": [0.1, 0.2, 0.5, 0.9]})
    assert not compile_diagnostics(config)
    assert "[[0.1, 0.2, 0.5, 0.9]]" in _compiled(config, tmp_path)
    refused = {(v.name, v.key): v.hint for v in legacy.VALUES if v.action == "reject"}
    config, _ = place("processing.image", "DrawBoundingBoxes", {"boxes": [0.1, 0.2, 0.5]})
    (error,) = compile_diagnostics(config)
    assert (error.code, error.hint) == ("legacy-value", refused[("DrawBoundingBoxes", "boxes")])
    assert error.path.endswith("DrawBoundingBoxes.boxes")
    config, _ = place("metrics", "MeanRelativeError", {"normalizer": "scale"})
    errors = [d for d in compile_diagnostics(config) if d.code == "legacy-value"]
    assert [d.hint for d in errors] == [refused[("MeanRelativeError", "normalizer")]]


def test_class_id_needs_one_hot_labels_and_a_class_of_the_model() -> None:
    config, _ = place("metrics", "SparsePrecisionAtK", {"k": 2, "class_id": 10})
    assert [d.code for d in compile_diagnostics(config)] == ["out-of-range"]
    config, _ = place("metrics", "SparseRecallAtK", {"k": 2, "class_id": 1})
    config["model"]["classifier"]["one_hot_encode"] = False
    config["model"]["classifier"]["loss"] = "SoftmaxCrossEntropy"
    (error,) = compile_diagnostics(config)
    assert (error.code, error.hint) == ("needs-one-hot", "set one_hot_encode: true")


def test_an_agents_loss_is_named_and_routes_nothing(tmp_path: Path) -> None:
    """A Q-learning agent's loss is reported under its name; it compares action
    values with their targets, so its output_layer is warned of, not dropped unsaid."""
    config, _ = place("rl.explorations", "Constant", {})
    config["model"]["dqn"]["loss"] = {"HuberLoss": {"output_layer": "q", "name": "td_error"}}
    (warning,) = compile_diagnostics(config)
    assert (warning.severity, warning.code, warning.path) == (
        "warning", "ignored-key", "model.dqn.loss.HuberLoss.output_layer",
    )  # fmt: skip
    assert 'values["td_error"] = float(np.mean(losses))' in _compiled(config, tmp_path)
