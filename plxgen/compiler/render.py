"""The Jinja environment and its filters: render(ir) -> Python source, no I/O."""

from __future__ import annotations

import json
import shlex
from functools import lru_cache
from typing import TYPE_CHECKING, Callable

import jinja2

from plxgen.compiler import cache, ir
from plxgen.compiler.literals import comment, docstring, ident, py

if TYPE_CHECKING:  # the RL IR is loaded only for RL experiments
    from plxgen.compiler.rl_ir import RLExperiment


def _template_source(name: str) -> tuple[str, None, Callable[[], bool]]:
    """A template shipped in plxgen.templates (the repository's templates/ folder)."""
    from importlib import resources

    source = resources.files("plxgen.templates").joinpath(name).read_text()
    return source, None, lambda: True


def compiling_environment() -> jinja2.Environment:
    """A Jinja environment with plxgen's settings, loader and filters."""
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_template_source),
        bytecode_cache=cache.template_cache(),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        extensions=["jinja2.ext.do"],
    )
    env.filters.update(
        py=py,
        ident=ident,
        comment=lambda v: comment(str(v)),
        docstring=docstring,
        dict=dict,
        # The launchers' literals: a shell word, a YAML (JSON) scalar or collection.
        sh=lambda v: shlex.quote(str(v)),
        yaml=lambda v: json.dumps(v, ensure_ascii=True),
    )
    return env


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The one Jinja environment (templates are loaded once per process)."""
    return compiling_environment()


def render(exp: ir.Experiment | RLExperiment) -> str:
    """The (unformatted) script body for an experiment."""
    if not isinstance(exp, ir.Experiment):
        return environment().get_template("rl.py.j2").render(exp=exp)
    return environment().get_template("script.py.j2").render(exp=exp)
