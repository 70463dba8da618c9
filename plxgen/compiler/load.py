"""YAML -> plain data plus the source position of every key and value.

PyYAML's composed nodes carry marks; this module walks them itself, so that
duplicate keys, unknown tags and alias bombs are caught with their position
and nothing but plain JSON-like values (dict, list, str, int, float, bool,
None) ever comes out.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from plxgen.errors import ConfigError, Diagnostic

Path = tuple[str | int, ...]

# Refuse inputs that would make the compiler slow or its output absurd.
MAX_FILE_BYTES = 1_000_000
MAX_NODES = 100_000
MAX_DEPTH = 64
MAX_STRING = 10_000  # characters in one key or value
MAX_TOTAL_CHARS = (
    2 * MAX_FILE_BYTES
)  # characters of all keys and values, aliases expanded
# What TensorFlow's int64 holds: a larger integer is a mistake, never a setting.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_INT = "tag:yaml.org,2002:int"
_DIGITS = re.compile(r"[-+]?[0-9_:]+")
_SURROGATE = re.compile("[\ud800-\udfff]")
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_FLOAT = "tag:yaml.org,2002:float"
# YAML 1.1 (PyYAML) reads a float only with a dot and a signed exponent, so
# `1e-3` and `1.0e5` are text; YAML 1.2, JSON and every other tool read them as
# numbers, and so does plxgen: these are the floats 1.1 misses.
_FLOAT_1_2 = re.compile(
    r"[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+\Z"
)


class SafeLoader(yaml.SafeLoader):  # type: ignore[misc]
    """PyYAML's safe loader, reading floats as YAML 1.2 does (`1e-3` is a number)."""


SafeLoader.add_implicit_resolver(_FLOAT, _FLOAT_1_2, list("-+0123456789."))

_CSafeLoader: Any = getattr(yaml, "CSafeLoader", None)
if _CSafeLoader is not None:

    class _FastLoader(_CSafeLoader):  # type: ignore[misc]
        """libyaml's safe loader with the same YAML 1.2 floats."""

    _FastLoader.add_implicit_resolver(_FLOAT, _FLOAT_1_2, list("-+0123456789."))
    FastLoader: Any = _FastLoader
else:
    FastLoader = None


@dataclass(frozen=True)
class Document:
    """A loaded experiment file: its data and where each part came from."""

    file: str
    data: Any
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)
    # Paths set on the command line (`--set PATH=VALUE`) -> how to name that origin.
    overrides: dict[Path, str] = field(default_factory=dict)

    def where(self, path: Path, *, key: bool = False) -> tuple[str, int, int]:
        """(file, line, col) of a value or its key, else of its nearest located parent."""
        for length in range(len(path), -1, -1):
            if path[:length] in self.overrides:
                return self.overrides[path[:length]], 1, 1
        if key and path in self.keys:
            return (self.file, *self.keys[path])
        if key:
            for override, origin in self.overrides.items():
                if override[: len(path)] == path:
                    return origin, 1, 1
        probe = path
        while probe:
            if probe in self.values:
                return (self.file, *self.values[probe])
            probe = probe[:-1]
        return (self.file, *self.values.get((), (1, 1)))

    def diagnostic(
        self,
        path: Path,
        message: str,
        code: str,
        hint: str | None,
        *,
        key: bool = False,
    ) -> Diagnostic:
        """A diagnostic located at `path` (its key with `key`) in this document."""
        file, line, col = self.where(path, key=key)
        return Diagnostic(file, line, col, format_path(path), message, code, hint)


def show(value: object, limit: int = 60) -> str:
    """`repr(value)` for a message, cut short when long."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_PLAIN_KEY = re.compile(r"[^\s.\[\]'\"\\]+")


def format_path(path: Path) -> str:
    """Render a JSON path the way diagnostics show it: `model.graph.layers[3].Dense`.

    A key that is not a plain name (a newline, a dot, a quote, ...) is shown
    quoted, `['a.b']`, so that a diagnostic always stays on one line.
    """
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part) and part.isprintable() and len(part) <= 60:
            text += f".{part}" if text else part
        else:
            text += f"[{show(part)}]"
    return text or "$"


class _Walker:
    def __init__(self, file: str) -> None:
        self.file = file
        self.values: dict[Path, tuple[int, int]] = {}
        self.keys: dict[Path, tuple[int, int]] = {}
        self.errors: list[Diagnostic] = []
        self.nodes = 0
        self.chars = 0
        self.constructor = SafeLoader("")

    def error(
        self,
        node: yaml.Node,
        path: Path,
        message: str,
        code: str,
        hint: str | None = None,
    ) -> None:
        line, col = _mark(node)
        self.errors.append(
            Diagnostic(self.file, line, col, format_path(path), message, code, hint)
        )

    def walk(self, node: yaml.Node, path: Path, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooBig(
                node,
                f"the file expands to more than {MAX_NODES} values (aliases included)",
            )
        if depth > MAX_DEPTH:
            raise _TooBig(node, f"the file nests deeper than {MAX_DEPTH} levels")
        self.values.setdefault(path, _mark(node))
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                self._bad_tag(node, path)
            return [
                self.walk(item, path + (i,), depth + 1)
                for i, item in enumerate(node.value)
            ]
        return self.scalar(node, path)

    def mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[str, Any]:
        if node.tag != _MAP:
            self._bad_tag(node, path)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.error(
                    key_node,
                    path,
                    "YAML merge keys (<<) are not supported",
                    "yaml-merge",
                )
                continue
            if (
                not isinstance(key_node, yaml.ScalarNode)
                or key_node.tag not in _SCALAR_TAGS
            ):
                self.error(
                    key_node, path, "a mapping key must be a plain name", "yaml-key",
                    'quote a {{ expression }}: `key: "{{ name }}"`'
                    if isinstance(key_node, yaml.MappingNode) and key_node.flow_style
                    else None,
                )  # fmt: skip
                continue
            key = key_node.value
            child = path + (key,)
            if not self._short(key_node, child):
                continue
            if key in result:
                first = self.keys[child]
                self.error(
                    key_node,
                    child,
                    f"duplicate key {key!r} (first defined at line {first[0]})",
                    "duplicate-key",
                    "remove one of the two; YAML keeps only the last, which hides mistakes",
                )
                continue
            self.keys[child] = _mark(key_node)
            result[key] = self.walk(value_node, child, depth + 1)
        return result

    def _short(self, node: yaml.ScalarNode, path: Path) -> bool:
        """Count a scalar's characters; False (and a diagnostic) when it is too long
        or not text (a lone surrogate, from an escape like "\\ud800")."""
        self.chars += len(node.value)
        if self.chars > MAX_TOTAL_CHARS:
            raise _TooBig(
                node,
                f"the file expands to more than {MAX_TOTAL_CHARS} characters (aliases included)",
            )
        if len(node.value) > MAX_STRING:
            self.error(
                node,
                path,
                f"this text is {len(node.value)} characters long, more than the {MAX_STRING} allowed",
                "too-large",
            )
            return False
        found = _SURROGATE.search(node.value)
        if found:
            self.error(
                node, path, f"{found.group()!r} is half a character (a lone surrogate), not text", "bad-character",
                'write a character above U+FFFF as one escape ("\\U0001F600"), not two \\u escapes',
            )  # fmt: skip
            return False
        return True

    def scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        if not self._short(node, path):
            return None
        if node.tag == _TIMESTAMP:
            return node.value  # a date-looking string stays the text the user wrote
        if node.tag not in _SCALAR_TAGS:
            self._bad_tag(node, path)
            return None
        try:
            value = self.constructor.construct_object(node)
        except (ValueError, KeyError, IndexError, TypeError, OverflowError):
            if node.tag == _INT and _DIGITS.fullmatch(node.value):
                # Python refuses to read integers of thousands of digits.
                self._out_of_range(node, path)
                return None
            # An explicit tag on a value that is not of that type: `!!int abc`.
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self.error(
                node,
                path,
                f"{show(node.value)} is not a valid {tag}",
                "yaml-tag",
                "write plain values only, without tags",
            )
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            if not INT64_MIN <= value <= INT64_MAX:
                self._out_of_range(node, path)
                return None
        if isinstance(value, float) and not math.isfinite(value):
            self.error(
                node,
                path,
                f"{node.value} is not a valid value",
                "not-finite",
                "write a finite number",
            )
        return value

    def _out_of_range(self, node: yaml.Node, path: Path) -> None:
        self.error(
            node,
            path,
            "this integer does not fit in 64 bits",
            "out-of-range",
            f"integers range from {INT64_MIN} to {INT64_MAX}; write a float (1e30) for a huge number",
        )

    def _bad_tag(self, node: yaml.Node, path: Path) -> None:
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        self.error(
            node,
            path,
            f"YAML tag {tag!r} is not allowed",
            "yaml-tag",
            "write plain values only, without tags",
        )


class _TooBig(Exception):
    def __init__(self, node: yaml.Node, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _decode(raw: bytes, file: str) -> str:
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(
            [
                Diagnostic(
                    file,
                    1,
                    1,
                    "$",
                    f"the file is larger than {MAX_FILE_BYTES} bytes",
                    "too-large",
                    "an experiment file is far smaller: generate repeated parts with `for` or `{{ }}`",
                )
            ]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before) - (before.rfind(b"\n") + 1) + 1
        raise ConfigError(
            [
                Diagnostic(
                    file, line, col, "$", f"the file is not UTF-8 (byte 0x{raw[exc.start]:02x})", "encoding",
                    "save the file as UTF-8",
                )
            ]  # fmt: skip
        ) from None
    return text


def _reader_error(exc: yaml.reader.ReaderError, text: str, file: str) -> Diagnostic:
    """A character YAML does not allow in a file (a control character), located."""
    before = text[: exc.position]
    line = before.count("\n") + 1
    col = exc.position - (before.rfind("\n") + 1) + 1
    char = exc.character if isinstance(exc.character, str) else chr(exc.character)
    return Diagnostic(
        file, line, col, "$", f"YAML does not allow the character {char!r} (U+{ord(char):04X})", "yaml-syntax",
        f'remove it, or write it as an escape in double quotes: "{repr(char)[1:-1]}"',
    )  # fmt: skip


def _compose(text: str) -> Any:
    """The node tree: from libyaml when it is installed (ten times faster), else PyYAML.

    libyaml's composer recurses in C, so it only gets text whose nesting its
    (flat) event stream shows to be shallow. Text that it rejects goes to PyYAML
    too, which reports the error with its own, tested messages.
    """
    fast = FastLoader
    if fast is not None and not yaml.reader.Reader.NON_PRINTABLE.search(text):
        try:
            if _shallow(yaml.parse(text, Loader=fast)):
                return yaml.compose(text, Loader=fast)
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=SafeLoader)


def _shallow(events: Any) -> bool:
    depth = 0
    for event in events:
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                return False
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return True


def _line_text(text: str, line: int) -> str:
    """Line `line` (1-based) of text, stripped and cut short, for a message."""
    lines = text.splitlines()
    found = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    return found if len(found) <= 40 else found[:37] + "..."


def _indentation(exc: yaml.MarkedYAMLError, text: str, file: str) -> Diagnostic | None:
    """PyYAML's indentation errors in words, naming the line that opened the block (else None)."""
    problem, context = exc.problem or "", exc.context or ""
    mark, opened = exc.problem_mark, exc.context_mark
    if mark is None:
        return None
    line, col = mark.line + 1, mark.column + 1
    if problem == "mapping values are not allowed here":
        above = line - 1
        return Diagnostic(
            file, line, col, "$",
            f"invalid indentation: line {line} is indented more than the key on line {above} "
            f"(`{_line_text(text, above)}`), so YAML reads it as more of that key's value",
            "yaml-indentation",
            "indent it like the key above to make it the next key, or quote a value that holds ': '",
        )  # fmt: skip
    block = "mapping" if "mapping" in context else "list"
    if opened is None or not (
        problem.startswith("expected <block end>")
        or problem
        in ("did not find expected key", "did not find expected '-' indicator")
    ):
        return None
    start, column = opened.line + 1, opened.column + 1
    where = f"the {block} that starts on line {start} (`{_line_text(text, start)}`)"
    if "'-'" in problem or "sequence" in problem:
        message = (
            f"invalid indentation: the list item on line {line} starts at column {col}, "
            f"inside {where}, whose keys are at column {column}"
        )
        hint = (
            "indent a list item under its key, like the other `- ` items of that list"
        )
    else:
        message = (
            f"invalid indentation: line {line} starts at column {col}, inside {where}, "
            f"whose {'keys' if block == 'mapping' else 'items'} are at column {column}"
        )
        hint = _line_it_up(text, line, col)
    return Diagnostic(file, line, col, "$", message, "yaml-indentation", hint)


def _content(text: str) -> list[tuple[int, int, str]]:
    """(line, column, stripped text) of each line that holds more than a comment."""
    found = []
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if stripped and not stripped.startswith("#"):
            found.append((number, len(raw) - len(raw.lstrip(" ")) + 1, stripped))
    return found


def _line_it_up(text: str, line: int, col: int) -> str:
    """Where a key indented between two blocks' columns belongs, the likelier first.

    The blocks still open above the line are its candidates: the one just
    above it (deeper) and the one that encloses that (shallower). A line that
    opens a block goes where its own lines then sit one level deeper; any
    other line goes beside the line above it.
    """
    lines = _content(text)
    above = [(n, c, t) for n, c, t in lines if n < line]
    below = [(n, c, t) for n, c, t in lines if n > line]
    # The open blocks: each earlier line less indented than all those after it.
    opened: list[tuple[int, int, str]] = []
    for n, c, t in reversed(above):
        if not opened or c < opened[-1][1]:
            opened.append((n, c, t))
    deeper = [b for b in opened if b[1] > col][-1:]
    shallower = [b for b in opened if b[1] < col][:1]
    candidates = deeper + shallower
    current = next((t for n, _, t in lines if n == line), "")
    if below and below[0][1] > col and current.endswith(":"):
        inside = below[0][1]  # the first line of the block this line opens
        candidates.sort(key=lambda b: b[1] >= inside)
    if not candidates:
        return "line it up with the keys of the block it belongs to"
    options = [
        f"column {c} (beside `{_line_text(text, n)}`, line {n})"
        for n, c, _ in candidates
    ]
    return "indent it to " + ", or to ".join(options)


def load_text(text: str, file: str) -> Document:
    """Parse YAML text into a Document; every problem becomes a located Diagnostic."""
    try:
        root = _compose(text)
    except yaml.MarkedYAMLError as exc:
        explained = _indentation(exc, text, file)
        if explained is not None:
            raise ConfigError([explained]) from None
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = (exc.problem or exc.context or "invalid YAML").strip()
        hint = None
        if "'\\t'" in message or "\t" in message:
            hint = "YAML indentation must use spaces, not tabs"
        elif (
            exc.context
            and exc.context_mark
            and exc.problem_mark
            and exc.context_mark.line != exc.problem_mark.line
        ):
            where = f"line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1}"
            hint = f"{exc.context} that starts at {where}: is it closed?"
        raise ConfigError(
            [
                Diagnostic(
                    file,
                    line,
                    col,
                    "$",
                    f"invalid YAML: {message}",
                    "yaml-syntax",
                    hint,
                )
            ]
        ) from None
    except yaml.reader.ReaderError as exc:
        raise ConfigError([_reader_error(exc, text, file)]) from None
    except yaml.YAMLError as exc:
        message = " ".join(str(exc).split())
        raise ConfigError(
            [Diagnostic(file, 1, 1, "$", f"invalid YAML: {message}", "yaml-syntax")]
        ) from None
    except RecursionError:
        raise ConfigError(
            [Diagnostic(file, 1, 1, "$", "the file nests too deeply", "too-large",
                        f"nest at most {MAX_DEPTH} levels")]  # fmt: skip
        ) from None
    if root is None:
        raise ConfigError([Diagnostic(
            file, 1, 1, "$", "the file is empty", "empty",
            "an experiment has at least version, project, model and train; `plxgen init` writes one",
        )])  # fmt: skip
    walker = _Walker(file)
    try:
        data = walker.walk(root, (), 0)
    except _TooBig as exc:
        line, col = _mark(exc.node)
        hint = (
            "aliases (*name) expand to too much; write the values out"
            if "aliases" in exc.message
            else None
        )
        raise ConfigError(
            [Diagnostic(file, line, col, "$", exc.message, "too-large", hint)]
        ) from None
    except RecursionError:
        raise ConfigError(
            [Diagnostic(file, 1, 1, "$", "the file nests too deeply", "too-large",
                        f"nest at most {MAX_DEPTH} levels")]  # fmt: skip
        ) from None
    if walker.errors:
        raise ConfigError(walker.errors)
    misplaced = _misplaced_keys(data, walker.keys, file)
    if misplaced:
        raise ConfigError(misplaced)
    return Document(file, data, walker.values, walker.keys)


# Sections that hold exactly one name (`model: {classifier: ...}`, `data_pipeline:
# {CsvPipeline: ...}`, `optimizer: {Adam: ...}`). A second key there that is not
# a name but a field (`graph`, `data_files`) was indented one level too little.
_ONE_NAME = (
    "model",
    "data_pipeline",
    "loss",
    "optimizer",
    "env",
    "memory",
    "exploration",
    "bridge",
)


def _misplaced_keys(
    data: Any, keys: dict[Path, tuple[int, int]], file: str
) -> list[Diagnostic]:
    """A field written beside the one name of its section, instead of inside it: an indentation slip."""
    found: list[Diagnostic] = []

    def visit(value: Any, path: Path) -> None:
        if isinstance(value, list):
            for i, item in enumerate(value):
                visit(item, path + (i,))
            return
        if not isinstance(value, dict):
            return
        names = list(value)
        if (
            path
            and path[-1] in _ONE_NAME
            and len(names) > 1
            and not _is_field(path[-1], names[0])
        ):
            name = names[0]
            for key in names[1:]:
                if _is_field(path[-1], key) and path + (key,) in keys:
                    found.append(_misplaced(path, name, key, value[name], keys, file))
        for key, item in value.items():
            visit(item, path + (key,))

    visit(data, ())
    return found


def _is_field(section: str, key: str) -> bool:
    """Whether key is a field of a name rather than a name of the section (names are CamelCase)."""
    if section != "model":
        return key[:1].islower()
    from plxgen.schema.registry import rl
    from plxgen.schema.registry.common import MODEL_KINDS

    return key not in (*MODEL_KINDS, *rl.KINDS)


def _misplaced(
    path: Path,
    name: str,
    key: str,
    block: Any,
    keys: dict[Path, tuple[int, int]],
    file: str,
) -> Diagnostic:
    line, col = keys[path + (key,)]
    opened = keys.get(path + (name,), (line, col))[0]
    inner = [keys[path + (name, k)] for k in block if path + (name, k) in keys] if isinstance(block, dict) else []  # fmt: skip
    column = inner[0][1] if inner else col + 2
    return Diagnostic(
        file, line, col, format_path(path),
        f"invalid indentation: `{key}:` on line {line} is indented like `{name}:` (line {opened}), "
        f"so it is read as a second name of `{path[-1]}` instead of a key of `{name}`",
        "yaml-indentation",
        f"indent `{key}:` and the lines under it to column {column}, like the keys of `{name}`",
    )  # fmt: skip


def load_bytes(raw: bytes, file: str) -> Document:
    """Decode (UTF-8 only) and parse an experiment file's bytes."""
    return load_text(_decode(raw, file), file)
