"""A graph of Keras layers: its inputs and outputs, the variables its layers
are assigned to, their calls (nested initializers, regularizers, constraints and
layers included), and the checks on how they are wired."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from plxgen.compiler import ir
from plxgen.compiler.load import Path, format_path, show
from plxgen.compiler.lower.context import (
    Context,
    names,
    near,
    one,
    parse_source,
    safe_var,
    snake_case,
)
from plxgen.schema import legacy, registry
from plxgen.schema.registry import schema_default
from plxgen.schema.sections.model import COMMON_LAYER_ARGS

# Bounds on what one config may ask for: beyond them the script is absurd and
# compiling it slow (each layer is a few lines that black formats).
MAX_LAYERS = 10_000
# Layers called with a query, a value and maybe a key.
_ATTENTION = {"Attention", "AdditiveAttention", "MultiHeadAttention"}
# Layer arguments that are themselves `Name: {arguments}` (by their schema's $ref):
# a layer, or a name of one of these families.
_NESTED = {
    "initializer": registry.INITIALIZERS,
    "regularizer": registry.REGULARIZERS,
    "constraint": registry.CONSTRAINTS,
}


@lru_cache(maxsize=1)
def keras_layers_document() -> dict[str, Any]:
    """The committed table of Keras layers (and of removed ones)."""
    text = resources.files("plxgen.schemas").joinpath("keras_layers.json").read_text()
    document: dict[str, Any] = json.loads(text)
    return document


def keras_layers() -> dict[str, Any]:
    """The committed table of Keras layers and their arguments."""
    layers: dict[str, Any] = keras_layers_document()["layers"]
    return layers


def lower_graph(
    ctx: Context,
    graph: dict[str, Any],
    path: Path,
    features: tuple[str, ...] | None,
    *,
    given: str | None = None,
    taken: set[str] | None = None,
    prefix: str = "",
) -> ir.Graph:
    """A graph of layers, sequential or with inbound_nodes.

    `given` is the variable a decoder starts from (the bridge's output; its
    input_layers only name it); `taken` holds variables already in use. Each
    Keras layer is named as the config names it: its `name`, else `Type_N`
    after `prefix` (where two graphs make one model).
    """
    if len(graph["layers"]) > MAX_LAYERS:
        ctx.fail(
            path + ("layers",),
            f"the graph has {len(graph['layers'])} layers, more than the {MAX_LAYERS} allowed",
            "too-large",
            f"use at most {MAX_LAYERS} layers",
            key=True,
        )
        return ir.Graph((), (), ())
    inputs = names(graph.get("input_layers"))
    graph_inputs: list[ir.Input] = []
    known: dict[str, str] = {}  # a name of an input or a layer -> its variable
    for n, feature in enumerate(inputs):  # the schema refuses a name listed twice
        if given is not None:
            known[feature] = given
            continue
        if features is not None and feature not in features:
            ctx.fail(
                path + ("input_layers",),
                f"the data pipeline provides no feature {show(feature)}",
                "unknown-feature",
                "features: " + ", ".join(features),
            )
        graph_inputs.append(ir.Input(feature, safe_var(feature, f"input_{n}")))
        known[feature] = graph_inputs[-1].var
    if given is not None and len(inputs) > 1:
        ctx.fail(
            path + ("input_layers",),
            "a decoder has one input: the bridge's output",
            "decoder-input",
            "name it once, e.g. input_layers: latent",
        )
    sequential = (
        len(inputs) <= 1
        and not any(
            "inbound_nodes" in (one(item)[1]) or "is_output" in (one(item)[1])
            for item in graph["layers"]
        )
        and "output_layers" not in graph
    )
    used = set(taken or ()) | {i.var for i in graph_inputs}  # variables taken
    renamed: dict[str, str] = {}  # a taken variable -> its last free variant
    layers: list[ir.Layer] = []
    previous = given or (graph_inputs[0].var if graph_inputs else "x")
    outputs: list[str] = []  # output_layers, then the layers marked is_output
    marked: list[str] = []
    counters: dict[str, int] = {}
    auto: dict[str, str] = {}  # 2017 default names of unnamed layers
    aliases: dict[str, tuple[str, ...]] = {}  # a variable -> the names of its layer
    # Keras' own names (`conv2d_1`: its second Conv2D) -> the config's, for hints.
    keras_names: dict[str, str] = {}
    for i, item in enumerate(graph["layers"]):
        name, args = one(item)
        lpath = path + ("layers", i, name)
        inbound = args.pop("inbound_nodes", None)
        is_output = args.pop(
            "is_output", schema_default(COMMON_LAYER_ARGS, "is_output")
        )
        args.pop("tags", None)
        if sequential:
            var = "x"
        else:
            base = safe_var(args.get("name") or f"{snake_case(name)}_{i}", f"layer_{i}")
            var = renamed.get(base, base)
            while var in used:
                var += "_"
            renamed[base] = var
            used.add(var)
        sources: tuple[str, ...]
        if inbound is None:
            sources = (previous,)
        else:
            inbound = [inbound] if isinstance(inbound, str) else inbound
            earlier = {**auto, **known}
            unknown = [n for n in inbound if n not in earlier]
            for n in unknown:
                ctx.fail(
                    lpath + ("inbound_nodes",),
                    f"no earlier layer or input is named {show(n)}",
                    "unknown-node",
                    _keras_hint(n, keras_names) or near(n, list(earlier)),
                )
            sources = tuple(earlier.get(n, previous) for n in inbound)
        _check_arity(ctx, name, sources, lpath)
        _check_args(ctx, name, args, lpath)
        # An unnamed layer is known as `Type_N` (the N-th unnamed one of its type),
        # as the 2017 tool named it; a name given that way counts too.
        own = args.get("name")
        if not own or own == f"{name}_{counters.get(name, 0) + 1}":
            counters[name] = counters.get(name, 0) + 1
        config_name = own or f"{name}_{counters[name]}"
        if config_name in known or config_name in auto:
            ctx.fail(
                lpath + ("name",) if own else lpath,
                f"the name {show(config_name)} is used twice",
                "duplicate-name",
                "give each layer its own name: Keras names the layer and its weights after it",
                key=not own,
            )
        if own:
            known[own] = var
        else:
            auto[config_name] = var
        aliases[var] = (config_name,)
        keras_names.setdefault(_keras_name(name, keras_names), config_name)
        call = layer_call(ctx, name, args, lpath)
        if not own and not call.func.qualname.startswith("keras.ops."):
            call = ir.Call(call.func, (*call.kwargs, ("name", prefix + config_name)))
        layers.append(ir.Layer(var, call, sources, format_path(lpath)))
        if is_output:
            marked.append(var)
        previous = var
    known = {**auto, **known}
    for out in names(graph.get("output_layers")):
        if out not in known:
            ctx.fail(
                path + ("output_layers",),
                f"no layer is named {show(out)}",
                "unknown-node",
                near(out, list(known)),
            )
        elif known[out] not in outputs:
            outputs.append(known[out])
    if "output_layers" not in graph:
        outputs.append(previous)  # the default: the last layer
    outputs.extend(var for var in marked if var not in outputs)
    if any(o not in {layer.var for layer in layers} for o in outputs):
        ctx.fail(
            path + ("output_layers",),
            "an output must be a layer, not an input",
            "input-as-output",
            "list layers in output_layers; an input reaches an output through a layer",
        )
    layers = _used(ctx, layers, outputs)
    output_names = tuple(aliases.get(var, ()) for var in outputs)
    return ir.Graph(tuple(graph_inputs), tuple(layers), tuple(outputs), output_names)


def _keras_name(layer_type: str, taken: dict[str, str]) -> str:
    """The name Keras would give the next unnamed layer of a type: conv2d, conv2d_1, ..."""
    base = re.sub("([a-z])([A-Z])", r"\1_\2", re.sub("(.)([A-Z][a-z]+)", r"\1_\2", layer_type))
    base = base.lower()
    name, n = base, 0
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name


def _keras_hint(node: str, keras_names: dict[str, str]) -> str | None:
    """A hint for a node named the way Keras names layers: the config's name of that layer."""
    if node not in keras_names:
        return None
    return (
        f"did you mean {show(keras_names[node])}? Keras would call that layer "
        f"{show(node)}; a script's layers are named as the config names them"
    )


def _check_arity(ctx: Context, name: str, sources: tuple[str, ...], path: Path) -> None:
    """Merge layers take several inputs (Dot and Subtract exactly two); others one."""
    merge = keras_layers().get(name, {}).get("merge", False)
    if name in _ATTENTION:
        if not 2 <= len(sources) <= 3:
            ctx.fail(
                path,
                f"{name} takes a query and a value (and optionally a key) in inbound_nodes",
                "layer-inputs",
                "e.g. inbound_nodes: [query, value]",
                key=True,
            )
    elif merge and len(sources) < 2:
        ctx.fail(
            path,
            f"{name} merges several inputs: list them in inbound_nodes",
            "merge-inputs",
            "e.g. inbound_nodes: [left, right]",
            key=True,
        )
    elif name in ("Dot", "Subtract") and len(sources) != 2:
        ctx.fail(
            path + ("inbound_nodes",),
            f"{name} takes exactly two inputs, got {len(sources)}",
            "merge-inputs",
            "e.g. inbound_nodes: [left, right]",
        )
    elif not merge and len(sources) > 1:
        ctx.fail(
            path + ("inbound_nodes",),
            f"{name} takes one input, got {len(sources)}",
            "layer-inputs",
            "merge them first with Concatenate, Add, ...",
        )


def _check_args(ctx: Context, name: str, args: dict[str, Any], path: Path) -> None:
    """What a layer's own arguments must agree on, beyond each one's schema."""
    shape = args.get("target_shape") if name == "Reshape" else None
    if isinstance(shape, list) and shape.count(-1) > 1:
        ctx.fail(
            path + ("target_shape",),
            f"{shape} has {shape.count(-1)} sizes of -1; Keras infers one at most",
            "unsupported-value",
            "give every size but one (the batch axis is not listed)",
        )
    elif isinstance(shape, list) and 0 in shape:
        ctx.fail(
            path + ("target_shape",),
            f"{shape} has a size of 0: an example would hold nothing",
            "unsupported-value",
            "give every size of one example, at least 1 (or -1 once, to infer it)",
        )


def _used(ctx: Context, layers: list[ir.Layer], outputs: list[str]) -> list[ir.Layer]:
    """The layers that feed an output; each other one is a warning, and left out.

    Keras' functional API ignores such a layer, and the 2017 tool ran such
    files (its advanced_file.yml builds one in an if/else branch).
    """
    needed = set(outputs)
    for layer in reversed(layers):
        if layer.var in needed:
            needed.update(layer.inputs)
    used = []
    for layer in layers:
        if layer.var not in needed and layer.var != "x":
            ctx.warn(
                parse_source(layer.source),
                "this layer feeds no output of the graph: it is left out of the model",
                "unused-layer",
                "connect it with inbound_nodes or remove it",
            )
        else:
            used.append(layer)
    return used


def layer_call(ctx: Context, name: str, args: dict[str, Any], path: Path) -> ir.Call:
    """The constructor call of one layer (nested initializers etc. included)."""
    if name == "Cast":
        return ir.Call(ir.Symbol("keras.ops.cast"), (("dtype", args["dtype"]),))
    # With the keys Keras takes but its signature does not list (plxgen.schema.legacy).
    props = {**legacy.honoured("layer", name), **keras_layers()[name]["properties"]}
    call_kwargs = []
    for key, value in args.items():
        ref = _ref(props.get(key, {}))
        call_kwargs.append((key, _nested(ctx, ref, value, path + (key,))))
    return ir.Call(ir.Symbol(f"keras.layers.{name}"), tuple(call_kwargs))


def _nested(ctx: Context, ref: str, value: Any, path: Path) -> Any:
    kind = ref.rsplit("/", 1)[-1]
    if not isinstance(value, dict) or (kind != "layer" and kind not in _NESTED):
        return value  # plain data, e.g. BatchNormalization's renorm_clipping mapping
    name, args = one(value)
    if kind == "layer":
        inner = dict(args or {})
        # The wrapper is the node of the graph: wiring and tags on the layer
        # it wraps would mean nothing, and were once dropped without a word.
        for key in ("inbound_nodes", "is_output", "tags"):
            if key in inner:
                ctx.fail(
                    path + (name, key),
                    f"{key} belongs on the wrapper, not on the layer it wraps",
                    "nested-layer-key",
                    f"move `{key}:` up to the layer that holds `{path[-1]}:`",
                    key=True,
                )
                del inner[key]
        return layer_call(ctx, name, inner, path + (name,))
    entry = _NESTED[kind][name]
    assert entry.symbol is not None, name
    if kind == "regularizer":
        # Every argument, defaults filled in, under its Keras name.
        return ir.Call(
            ir.Symbol(entry.symbol), tuple(entry.call_kwargs(entry.complete(args)))
        )
    # Initializers and constraints take the config's arguments: Keras names them alike;
    # an initializer also passes the 2017 defaults that are not Keras' (`renames`).
    given = tuple((k, v) for k, v in args.items() if k not in entry.renames)
    return ir.Call(
        ir.Symbol(entry.symbol),
        (*entry.call_kwargs(entry.complete(args)), *given),
    )


def _ref(schema: dict[str, Any]) -> str:
    """The `$ref` of a property schema, also inside `anyOf: [$ref, null]`."""
    if "$ref" in schema:
        return str(schema["$ref"])
    for branch in schema.get("anyOf", []):
        if "$ref" in branch:
            return str(branch["$ref"])
    return ""
