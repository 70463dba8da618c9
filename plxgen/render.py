"""The Jinja environment and its filters: render(ir) -> Python source, no I/O."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2

from plxgen import cache, ir
from plxgen.literals import comment, docstring, ident, py

_CPP_LOG_LEVEL = {
    "DEBUG": "0",
    "INFO": "1",
    "WARNING": "1",
    "ERROR": "2",
    "CRITICAL": "3",
}


def _helpers_used(exp: ir.Experiment) -> set[str]:
    used = {m.helper for m in exp.model.metrics if m.helper}
    for value in exp.model.loss.call.args:
        if isinstance(value, ir.Symbol):
            used.add(value.qualname)
    return used


def _has_regularizers(exp: ir.Experiment) -> bool:
    def calls(value: Any) -> bool:
        return isinstance(value, ir.Call) and any(
            k.endswith("_regularizer") or calls(v) for k, v in value.kwargs
        )

    return any(
        calls(layer.call)
        or layer.call.func.qualname == "keras.layers.ActivityRegularization"
        for layer in exp.model.graph.layers
    )


def _has_processors(exp: ir.Experiment) -> bool:
    return any(p.processors for p in (exp.train, exp.eval) if p)


def _schedules(exp: ir.Experiment) -> list[str]:
    if exp.eval:
        return ["train", "evaluate", "train_and_evaluate", "predict", "export"]
    return ["train", "export"]


def _script_docstring(exp: ir.Experiment) -> str:
    m = exp.model
    summary = (
        f"Train {exp.project}: a {m.kind} compiled by plxgen from {exp.config_path}."
    )
    parts = [summary]
    if exp.description:
        parts.append(exp.description.strip())
    parts.append(
        "Run it with --help for the options. Checkpoints, TensorBoard summaries, metrics.json\n"
        "and exports go to --model-dir; a rerun resumes from its newest checkpoint."
    )
    return docstring("\n\n".join(parts) + "\n")


_LINE_LENGTH = 88  # black's default


def _literal_block(value: Any, indent: int = 0) -> str:
    """`py(value)` laid out as black lays out a literal, so black has less to redo.

    A collection stays on one line if it fits, else one item per line, each with a
    trailing comma (a single item: none). Only a layout hint: black still formats
    the whole script, so a wrong guess costs time, never a different script.
    """
    return "\n".join(_layout(value, indent, "", "")).lstrip()


def _layout(value: Any, indent: int, head: str, tail: str) -> list[str]:
    pad = " " * indent
    line = f"{pad}{head}{py(value)}{tail}"
    if (
        len(line) <= _LINE_LENGTH
        or not line.isascii()  # black measures width, not length
        or not isinstance(value, (dict, list))
        or not value
        or len(f"{pad}{head}{{") > _LINE_LENGTH
    ):
        return [line]
    items = (
        [(f"{py(k)}: ", v) for k, v in value.items()]
        if isinstance(value, dict)
        else [("", v) for v in value]
    )
    comma = "," if len(items) > 1 else ""
    opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
    lines = [f"{pad}{head}{opening}"]
    for item_head, item in items:
        lines.extend(_layout(item, indent + 4, item_head, comma))
    lines.append(f"{pad}{closing}{tail}")
    return lines


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The one Jinja environment (templates are loaded once per process)."""
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        extensions=["jinja2.ext.do"],
        bytecode_cache=cache.jinja_bytecode_cache(),
    )
    env.filters.update(
        py=py,
        literal_block=_literal_block,
        ident=ident,
        comment=lambda v: comment(str(v)),
        dict=dict,
        dict_by_feature=lambda processors: {p.feature: p for p in processors},
        helpers_used=_helpers_used,
        has_regularizers=_has_regularizers,
        has_processors=_has_processors,
        schedules=_schedules,
        reads_in_order=lambda p: not p.shuffle
        and p.num_epochs == 1
        and not p.drop_remainder,
        script_docstring=_script_docstring,
        cpp_log_level=lambda level: _CPP_LOG_LEVEL[level],
    )
    return env


def _load(name: str) -> str:
    from importlib import resources

    return resources.files("plxgen.templates").joinpath(name).read_text()


def render(exp: ir.Experiment) -> str:
    """The (unformatted) script body for an experiment."""
    return environment().get_template("script.py.j2").render(exp=exp)
