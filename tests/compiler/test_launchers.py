"""`--target slurm|kubernetes`: the launcher beside the scripts, what it asks for, and its checks.

The SLURM files are submitted to a real cluster in tests/scripts/test_slurm.py;
here they are read as bash would read them (`bash -n`), and every Kubernetes
manifest is validated offline against the Kubernetes schemas
(kubernetes-validate) and, for a TFJob, against Kubeflow's TFJob API.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from plxgen.compiler import Target, compile_target
from plxgen.compiler.write import state
from plxgen.compiler import launch
from plxgen.errors import ConfigError
from plxgen.compiler.load import load_text
from plxgen.compiler.validate import validate
from tests.conftest import ROOT, plxgen

kubernetes_validate = pytest.importorskip("kubernetes_validate")
KUBERNETES = "1.32"

BASE = """\
version: 1
project: {name: tiny}
model:
  regressor:
    loss: MeanSquaredError
    optimizer: Adam
    graph: {input_layers: x, layers: [{Dense: {units: 1}}]}
train:
  data_pipeline:
    NumpyPipeline: {data_files: [data/train.npz], features: [x], label: y}
"""


SWEEP = BASE.replace("[{Dense:", '[{Dense: {units: "{{ units }}"}}, {Dense:') + (
    "matrix: {units: {values: [1, 2, 3]}}\nsettings: {concurrent_experiments: 2}\n"
)


def config(tmp_path: Path, extra: str = "", name: str = "tiny.yaml") -> Path:
    path = tmp_path / name
    path.write_text(BASE + extra)
    return path


def launcher(path: Path, target: str, *sets: str) -> str:
    script = path.with_suffix(".py")
    outputs = compile_target(Target(path, script, script, launcher=target), list(sets))
    return outputs[-1].text


def directives(text: str) -> list[str]:
    return [
        line.removeprefix("#SBATCH ")
        for line in text.splitlines()
        if line.startswith("#SBATCH ")
    ]


# --- what a launcher asks for ------------------------------------------------


def test_resources_become_sbatch_options_and_container_resources(
    tmp_path: Path,
) -> None:
    path = config(tmp_path, """\
environment:
  resources:
    cpu: {requests: 0.5, limits: 2}
    memory: {requests: 512, limits: 4Gi}
    gpu: {limits: 2}
launch:
  slurm: {partition: gpu, account: ml, time: "1-12:00:00"}
""")  # fmt: skip
    assert directives(launcher(path, "slurm")) == [
        "--job-name=tiny",
        "--partition=gpu  # launch.slurm.partition",
        "--account=ml  # launch.slurm.account",
        "--time=1-12:00:00  # launch.slurm.time",
        "--signal=TERM@120  # SIGTERM two minutes before the time limit: a checkpoint",
        "--requeue  # a requeued task resumes from its newest checkpoint",
        "--cpus-per-task=1  # environment.resources.cpu.requests, 0.5 rounded up to whole CPUs",
        "--mem=4096M  # environment.resources.memory.limits",
        "--gres=gpu:2  # environment.resources.gpu.limits",
    ]
    job = yaml.safe_load(launcher(path, "kubernetes"))
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["resources"] == {
        "requests": {"cpu": "500m", "memory": "512Mi"},
        "limits": {"cpu": "2", "memory": "4096Mi", "nvidia.com/gpu": 2},
    }


def test_a_sweep_is_an_array_limited_by_concurrent_experiments(tmp_path: Path) -> None:
    (tmp_path / "sweep.yaml").write_text(SWEEP)
    outputs = compile_target(
        Target(
            tmp_path / "sweep.yaml",
            tmp_path / "out",
            tmp_path / "out",
            launcher="slurm",
        ),
        [],
    )
    text = outputs[-1].text
    assert outputs[-1].path == tmp_path / "out" / "sweep.sbatch"
    assert (
        "--array=0-2%2  # a task per script; 2 at once (settings.concurrent_experiments)"
        in directives(text)
    )
    names = [
        o.path.name for o in outputs if o.path is not None and o.path.suffix == ".py"
    ]
    assert names == ["sweep-units_1.py", "sweep-units_2.py", "sweep-units_3.py"]
    assert "scripts=(\n" + "".join(f"    {n}\n" for n in names) + ")\n" in text
    job = yaml.safe_load(
        compile_target(Target(tmp_path / "sweep.yaml", tmp_path / "out", tmp_path / "out",
                              launcher="kubernetes"), [])[-1].text  # fmt: skip
    )
    assert (job["spec"]["completions"], job["spec"]["parallelism"]) == (3, 2)
    assert job["spec"]["completionMode"] == "Indexed"


def test_a_cluster_is_one_job_of_its_tasks_with_their_roles(tmp_path: Path) -> None:
    path = config(tmp_path, """\
environment:
  n_workers: 2
  n_ps: 1
  resources: {cpu: {requests: 4}}
  default_worker_resources: {cpu: {requests: 4}}
  default_ps_resources: {cpu: {requests: 4}}
""")  # fmt: skip
    text = launcher(path, "slurm")
    assert (
        "--ntasks=4  # one per task of the cluster: 1 chief, 2 worker, 1 ps"
        in directives(text)
    )
    assert "roles=(chief worker worker ps)\nindexes=(0 0 1 0)\n" in text
    tfjob = yaml.safe_load(launcher(path, "kubernetes"))
    specs = tfjob["spec"]["tfReplicaSpecs"]
    assert {kind: spec["replicas"] for kind, spec in specs.items()} == {
        "Chief": 1,
        "Worker": 2,
        "PS": 1,
    }


def test_tasks_that_differ_get_the_largest_with_a_located_warning(
    tmp_path: Path,
) -> None:
    path = config(tmp_path, """\
environment:
  n_workers: 2
  resources: {cpu: {requests: 1}}
  default_worker_resources: {cpu: {requests: 1}}
  worker_resources:
    - {index: 1, cpu: {requests: 3}, memory: {limits: 2048}}
""")  # fmt: skip
    script = path.with_suffix(".py")
    result = plxgen("compile", path, "-o", script, "--target", "slurm", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-3:] == [
        f"{path}:16:7: warning: environment.worker_resources[0]: SLURM gives every task of one job "
        "the same resources, but these tasks ask for different ones [launch-resources]",
        "  hint: each of the 3 tasks gets the largest: 3 CPUs, 2048 MiB",
        "1 warning",
    ]
    assert "--cpus-per-task=3" in " ".join(
        directives(path.with_suffix(".sbatch").read_text())
    )
    # --strict: the warning is an error, and nothing is written.
    path.with_suffix(".sbatch").unlink()
    path.with_suffix(".py").unlink()
    strict = plxgen(
        "compile", path, "-o", script, "--target", "slurm", "--strict", cwd=tmp_path
    )
    assert (
        strict.returncode == 2
        and "16:7: error: environment.worker_resources[0]" in strict.stderr
    )
    assert not script.exists() and not path.with_suffix(".sbatch").exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"4 GB"', "'4 GB' is not a memory size"),
        ("0", "0 is not a positive amount"),
    ],
)
def test_a_resource_the_launcher_cannot_read_is_a_located_error(
    tmp_path: Path, value: str, message: str
) -> None:
    path = config(
        tmp_path, f"environment:\n  resources:\n    memory: {{limits: {value}}}\n"
    )
    result = plxgen(
        "compile", path, "-o", path.with_suffix(".py"), "--target", "kubernetes"
    )
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        f"{path}:13:22: error: environment.resources.memory.limits: {message} [bad-resource]"
    )
    assert (
        not path.with_suffix(".py").exists()
        and not path.with_suffix(".k8s.yaml").exists()
    )


def test_resources_of_a_task_the_cluster_lacks_are_a_located_error(
    tmp_path: Path,
) -> None:
    path = config(
        tmp_path,
        "environment:\n  n_workers: 1\n  worker_resources:\n    - {index: 1, cpu: {requests: 2}}\n",
    )
    result = plxgen("compile", path, "-o", path.with_suffix(".py"), "--target", "slurm")
    assert result.returncode == 2
    assert result.stderr.splitlines()[:2] == [
        f"{path}:14:7: error: environment.worker_resources[0]: these resources are for no worker: "
        "the cluster has 1 worker task(s) [no-such-task]",
        "  hint: give the index of a worker (0 for the first), or remove them",
    ]


def test_launch_settings_that_vary_with_the_matrix_are_refused(tmp_path: Path) -> None:
    text = (
        BASE
        + 'matrix: {cpus: {values: [1, 2]}}\nenvironment:\n  resources: {cpu: {requests: "{{ cpus }}"}}\n'
    )
    (tmp_path / "sweep.yaml").write_text(text)
    result = plxgen(
        "compile", tmp_path / "sweep.yaml", "-o", tmp_path / "out", "--target", "slurm"
    )
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        f"{tmp_path / 'sweep.yaml'}:12:1: error: environment: a launcher is one file for the "
        "whole matrix, but its tasks, resources or launch settings change with the "
        "combination [launch-varies]"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "setting",
    [
        "launch.python=python3; rm -rf ~",
        "launch.slurm.partition=gpu --uid=0",
        'launch.kubernetes.image=x"; y',
        "launch.runs=$(reboot)",
    ],
)
def test_no_launch_value_reaches_a_launcher_but_as_a_checked_word(
    tmp_path: Path, setting: str
) -> None:
    path = config(tmp_path)
    result = plxgen(
        "compile",
        path,
        "-o",
        path.with_suffix(".py"),
        "--target",
        "slurm",
        "--set",
        setting,
    )
    assert result.returncode == 2, result.stderr
    assert "error: launch." in result.stderr


LAUNCH_KEYS = [
    "runs", "python", "slurm.partition", "slurm.account", "slurm.time", "kubernetes.image",
    "kubernetes.namespace", "kubernetes.workdir", "kubernetes.data_claim",
    "kubernetes.data_path", "kubernetes.runs_claim",
]  # fmt: skip
BENIGN = {"slurm.time": "2:00:00", "runs": "runs/a", "python": "/opt/py/bin/python3",
          "kubernetes.image": "registry.example.com/team/x:1.2", "kubernetes.workdir": "/w",
          "kubernetes.data_path": "/data/x"}  # fmt: skip


def test_every_launch_key_is_listed() -> None:
    launch = json.loads((ROOT / "schemas" / "experiment.schema.json").read_text())[
        "properties"
    ]["launch"]
    keys = [
        f"{k}.{sub}" if "properties" in v else k
        for k, v in launch["properties"].items()
        for sub in (v.get("properties") or {"": None})
    ]
    assert sorted(keys) == sorted(LAUNCH_KEYS)


@pytest.mark.parametrize("key", LAUNCH_KEYS)
def test_hostile_text_never_reaches_a_launcher(tmp_path: Path, key: str) -> None:
    """Each launch value is a checked word: a hostile text of test_hostile is refused,
    unless it is a plain word (a name or a path), which reaches the launcher quoted."""
    from tests.compiler.test_hostile import HOSTILE

    def launched(value: str) -> dict[str, Any] | None:
        data = yaml.safe_load(BASE)
        section = data.setdefault("launch", {})
        *parents, last = key.split(".")
        for part in parents:
            section = section.setdefault(part, {})
        section[last] = value
        try:
            doc = load_text(yaml.safe_dump(data), "c.yaml")
        except (
            ConfigError
        ):  # the loader refuses what no YAML file of a person holds (NUL, ...)
            return None
        refused = validate(doc)  # the schema's checks: the whole compile adds none here
        if refused:
            assert all(d.path.startswith(f"launch.{key}") for d in refused), refused
            return None
        found = launch.extract(doc, "c", ["c.py"], None, ".")
        return {
            t: launch.render_launcher(found, t, doc) for t in ("slurm", "kubernetes")
        }

    value = BENIGN.get(key, "plxgen-placeholder")
    texts = launched(value)
    assert texts is not None and any(value in text for text in texts.values())
    for text in HOSTILE:
        texts = launched(text)
        if texts is None:
            continue
        assert re.fullmatch(r"[A-Za-z0-9_.:/@+-]+", text), text  # no quote, space or $
        assert list(yaml.safe_load_all(texts["kubernetes"]))
        batch = tmp_path / "c.sbatch"
        batch.write_text(texts["slurm"])
        assert subprocess.run(["bash", "-n", str(batch)]).returncode == 0


def test_a_launcher_needs_a_file_to_go_beside(tmp_path: Path) -> None:
    result = plxgen("compile", config(tmp_path), "--target", "slurm")
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        "plxgen: error: --target writes a launcher beside the script, not to stdout"
    )


def test_the_launch_section_leaves_the_scripts_as_they_are(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    plain = config(tmp_path / "a")
    launched = config(
        tmp_path / "b", "launch: {runs: /scratch/runs, kubernetes: {image: r/x:1}}\n"
    )
    body = [compile_target(Target(p, p.with_suffix(".py"), None), [])[0].text.split("\n", 3)[3]
            for p in (plain, launched)]  # fmt: skip
    assert body[0] == body[1]


# --- written, checked and read back like every output ------------------------


def test_check_covers_the_launcher_and_a_hand_edit_is_named(tmp_path: Path) -> None:
    (tmp_path / "lenet_sweep.yaml").write_text(SWEEP)
    out = tmp_path / "sweep"
    args = ["lenet_sweep.yaml", "-o", "sweep"]
    assert plxgen("compile", *args, "--target", "slurm", cwd=tmp_path).returncode == 0
    assert plxgen("check", *args, "--target", "slurm", cwd=tmp_path).returncode == 0
    assert plxgen("check", *args, cwd=tmp_path).returncode == 0  # the scripts alone
    batch = out / "lenet_sweep.sbatch"
    assert state(batch.read_text()) == "generated" and batch.read_text().startswith(
        "#!/bin/bash\n"
    )
    batch.write_text(batch.read_text().replace("%2", "%8"))
    result = plxgen("check", *args, "--target", "slurm", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        "sweep/lenet_sweep.sbatch: edited by hand since plxgen generated it; run: plxgen compile "
        "lenet_sweep.yaml -o sweep --target slurm --force (the hand edits will be lost: make "
        "them in the experiment file instead)"
    )
    refused = plxgen("compile", *args, "--target", "slurm", cwd=tmp_path)
    assert (
        refused.returncode == 2
        and "was edited since plxgen generated it" in refused.stderr
    )


def test_a_glob_of_configs_passes_over_the_launchers_beside_them(
    tmp_path: Path,
) -> None:
    path = config(tmp_path)
    assert (
        plxgen(
            "compile", path, "-o", path.with_suffix(".py"), "--target", "kubernetes"
        ).returncode
        == 0
    )
    assert (tmp_path / "tiny.k8s.yaml").exists()
    result = plxgen("validate", "*.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_o_dir_slash_makes_the_folder_for_one_script(tmp_path: Path) -> None:
    path = config(tmp_path)
    result = plxgen("compile", path, "-o", "new/", "--target", "slurm", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == [
        "tiny.py",
        "tiny.sbatch",
    ]


# --- read as bash and Kubernetes read them -------------------------------------


def bundled_launchers() -> list[Path]:
    examples = ROOT / "generated_examples"
    return sorted({*examples.glob("**/*.sbatch"), *examples.glob("**/*.k8s.yaml")})


def test_every_bundled_sbatch_is_bash() -> None:
    files = [p for p in bundled_launchers() if p.suffix == ".sbatch"]
    assert len(files) == 3
    for path in files:
        done = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
        assert done.returncode == 0, (path, done.stderr)


# Kubeflow's TFJob API (kubeflow.org/v1, training-operator's TFJobSpec and
# ReplicaSpec): the fields a TFJob of plxgen's uses, and no others.
TFJOB = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "kubeflow.org/v1"},
        "kind": {"const": "TFJob"},
        "metadata": {"type": "object", "required": ["name"]},
        "spec": {
            "type": "object",
            "required": ["tfReplicaSpecs"],
            "additionalProperties": False,
            "properties": {
                "runPolicy": {
                    "type": "object",
                    "properties": {
                        "cleanPodPolicy": {"enum": ["None", "Running", "All"]}
                    },
                },
                "tfReplicaSpecs": {
                    "type": "object",
                    "minProperties": 1,
                    "propertyNames": {
                        "enum": ["Chief", "Master", "Worker", "PS", "Evaluator"]
                    },
                    "additionalProperties": {
                        "type": "object",
                        "required": ["replicas", "template"],
                        "additionalProperties": False,
                        "properties": {
                            "replicas": {"type": "integer", "minimum": 1},
                            "restartPolicy": {
                                "enum": ["Always", "OnFailure", "Never", "ExitCode"]
                            },
                            "template": {"type": "object"},
                        },
                    },
                },
            },
        },
    },
}


def manifests(tmp_path: Path) -> list[dict[str, Any]]:
    """Every kind of manifest: the bundled ones and a distributed sweep's TFJobs."""
    docs = [
        d
        for p in bundled_launchers()
        if p.suffix == ".yaml"
        for d in yaml.safe_load_all(p.read_text())
    ]
    text = (ROOT / "generated_examples" / "lenet_cluster.yaml").read_text()
    text = text.replace(
        "environment:\n", "matrix: {rate: {values: [0.001, 0.01]}}\nenvironment:\n", 1
    )
    (tmp_path / "cluster_sweep.yaml").write_text(
        text.replace("learning_rate: 0.001", 'learning_rate: "{{ rate }}"')
    )
    out = tmp_path / "out"
    outputs = compile_target(
        Target(tmp_path / "cluster_sweep.yaml", out, out, launcher="kubernetes"), []
    )
    docs += list(yaml.safe_load_all(outputs[-1].text))
    return docs


def test_every_manifest_is_valid_kubernetes(tmp_path: Path) -> None:
    docs = manifests(tmp_path)
    kinds = sorted({(d["kind"], d["spec"].get("completionMode", "")) for d in docs})
    assert kinds == [("Job", ""), ("Job", "Indexed"), ("TFJob", "")]
    assert (
        sum(d["kind"] == "TFJob" for d in docs) == 3
    )  # lenet_cluster's, and one per combination
    for doc in docs:
        if doc["kind"] == "Job":
            kubernetes_validate.validate(doc, KUBERNETES, strict=True)
            continue
        jsonschema.validate(doc, TFJOB)
        for kind, spec in doc["spec"]["tfReplicaSpecs"].items():
            template = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": kind.lower()},
                        "template": spec["template"]}  # fmt: skip
            kubernetes_validate.validate(template, KUBERNETES, strict=True)
            names = [c["name"] for c in spec["template"]["spec"]["containers"]]
            assert names == ["tensorflow"]  # the container the operator gives TF_CONFIG


def test_the_validators_refuse_what_kubernetes_refuses(tmp_path: Path) -> None:
    """The checks above can fail: a misspelt field and a wrong type are caught."""
    job = next(d for d in manifests(tmp_path) if d["kind"] == "Job")
    broken = json.loads(json.dumps(job))
    broken["spec"]["template"]["spec"]["containers"][0]["workdir"] = "/x"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)
    broken = json.loads(json.dumps(job))
    broken["spec"]["completions"] = "four"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)
    tfjob = next(d for d in manifests(tmp_path) if d["kind"] == "TFJob")
    tfjob["spec"]["tfReplicaSpecs"]["Workers"] = tfjob["spec"]["tfReplicaSpecs"].pop(
        "Worker"
    )
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(tfjob, TFJOB)


def test_the_launchers_the_documentation_shows_are_the_generated_ones() -> None:
    """A block of docs/ with a manifest or #SBATCH lines is a launcher of generated_examples, cut with `...`."""
    fence = re.compile(r"^```(?:yaml|sh)\n(.*?)^```", re.MULTILINE | re.DOTALL)
    generated = {p: p.read_text().splitlines() for p in bundled_launchers()}
    shown = 0
    for page in ("sweeps.md", "kubernetes.md"):
        for block in fence.findall((ROOT / "docs" / page).read_text()):
            if "apiVersion:" not in block and "#SBATCH" not in block:
                continue
            shown += 1
            lines = [
                line for line in block.splitlines() if line.strip() not in ("...", "")
            ]
            assert any(_in_order(lines, text) for text in generated.values()), block

    assert shown >= 4


def _in_order(lines: list[str], text: list[str]) -> bool:
    """Whether every line is a line of text (`...` ending a line: its start), in this order."""
    at = 0
    for line in lines:
        prefix = line.removesuffix(" ...")
        while at < len(text) and not (
            text[at] == line or (prefix != line and text[at].startswith(prefix))
        ):
            at += 1
        if at == len(text):
            return False
        at += 1
    return True
