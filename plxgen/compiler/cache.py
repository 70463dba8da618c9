"""A content-addressed cache of formatted script bodies, as black and mypy keep caches.

Rendering and black take most of a compile. The body of a script depends only
on the (overridden) document, the two relative paths, plxgen's own sources,
templates and schemas, the Python version and the installed dependencies, so
a sha256 of all of them names the body. A hit skips validation, lowering,
Jinja and black; an entry exists only for a document that compiled, so a
document with mistakes always takes the full path and gets its diagnostics.

Entries live in $XDG_CACHE_HOME/plxgen (default ~/.cache/plxgen). Writes are
atomic (temporary file + rename). Each entry carries an HMAC of its name and
body under a per-user secret (`secret`, 32 random bytes, mode 0600, made on
first use): an entry edited in place, even with a checksum recomputed, or
moved under another name, is ignored and rewritten. A secret that others can
read or that another user owns means no cache, as does any I/O problem.
PLXGEN_NO_CACHE=1 or `plxgen --no-cache` bypasses it; `plxgen check` (the CI
gate) never reads it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import stat
import sys
from functools import lru_cache
from importlib import resources
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Iterator

_MAGIC = b"plxgen-body-cache 2\n"
_SECRET = "secret"
_SECRET_BYTES = 32
# What else decides the output: a reinstall of any of them changes its file.
_DEPENDENCIES = ("yaml", "jinja2", "jsonschema", "black")
_disabled = False


@contextlib.contextmanager
def bypassed(bypass: bool = True) -> Iterator[None]:
    """Neither read nor write the cache inside this block (`--no-cache`)."""
    global _disabled
    before = _disabled
    _disabled = before or bypass
    try:
        yield
    finally:
        _disabled = before


def enabled() -> bool:
    return not _disabled and not os.environ.get("PLXGEN_NO_CACHE")


def directory() -> Path:
    """$XDG_CACHE_HOME/plxgen, or ~/.cache/plxgen."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache"
    )
    return Path(base) / "plxgen"


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """sha256 of the compiler itself: its sources, templates, schemas, Python and dependencies."""
    digest = hashlib.sha256(sys.version.encode())
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*.py")):
        name = path.relative_to(package).as_posix()
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    for data in ("plxgen.templates", "plxgen.schemas"):
        for entry in sorted(resources.files(data).iterdir(), key=lambda e: e.name):
            if entry.name.endswith((".j2", ".json")):
                digest.update(entry.name.encode() + b"\0" + entry.read_bytes() + b"\0")
    for name in _DEPENDENCIES:
        spec = find_spec(name)
        origin = spec.origin if spec else None
        stat = os.stat(origin) if origin else None
        digest.update(
            f"{name}:{origin}:{stat and stat.st_size}:{stat and stat.st_mtime_ns}\0".encode()
        )
    return digest.hexdigest()


def key(data: Any, config_rel: str, data_prefix: str) -> str:
    """The name of the body compiled from this document (after --set overrides)."""
    material = "\0".join((fingerprint(), config_rel, data_prefix, repr(data)))
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()


def _entry(name: str) -> Path:
    return directory() / "bodies" / name[:2] / name


def _secret() -> bytes | None:
    """The per-user key of the entries' HMACs (made on first use), or None: no cache."""
    path = directory() / _SECRET
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    for _ in range(2):
        try:
            fd = os.open(path, os.O_RDONLY | nofollow)
        except FileNotFoundError:
            _make_secret(path, nofollow)
            continue
        except OSError:
            return None
        try:
            info = os.fstat(fd)
            if (
                not stat.S_ISREG(info.st_mode)
                or info.st_mode & 0o077
                or (hasattr(os, "getuid") and info.st_uid != os.getuid())
            ):
                return None  # readable by others, or not ours: not a secret
            secret = os.read(fd, _SECRET_BYTES + 1)
        except OSError:
            return None
        finally:
            os.close(fd)
        return secret if len(secret) == _SECRET_BYTES else None
    return None


def _make_secret(path: Path, nofollow: int) -> None:
    """Create the secret (0600) atomically: a racing process finds it whole or not at all."""
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-secret-")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(os.urandom(_SECRET_BYTES))
            os.link(tmp, path)  # fails if another process made it first: theirs is kept
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    except OSError:
        return


def _mac(secret: bytes, name: str, body: bytes) -> bytes:
    return (
        hmac.new(secret, name.encode() + b"\0" + body, hashlib.sha256)
        .hexdigest()
        .encode()
    )


def get(name: str) -> str | None:
    """The cached body, or None (missing, corrupt, tampered, unreadable or disabled)."""
    if not enabled():
        return None
    try:
        raw = _entry(name).read_bytes()
    except (OSError, ValueError):
        return None
    head, sep, body = raw[len(_MAGIC) :].partition(b"\n")
    if not raw.startswith(_MAGIC) or not sep:
        return None
    secret = _secret()
    if secret is None or not hmac.compare_digest(_mac(secret, name, body), head):
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def put(name: str, body: str) -> None:
    """Store a body atomically; a cache that cannot be written is no error."""
    if not enabled():
        return
    import tempfile

    secret = _secret()
    if secret is None:
        return
    data = body.encode("utf-8")
    path = _entry(name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(_MAGIC + _mac(secret, name, data) + b"\n")
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError:
        return


def template_cache() -> Any:
    """Jinja's bytecode cache in the cache folder (None when caching is off).

    A compiled template is checked against its source's checksum and Jinja's
    version before use, and loaded only from a file that is ours and that no
    one else may write (it is code that runs in the compiler); a cache that
    cannot be read or written is no error.
    """
    if not enabled():
        return None
    import jinja2

    class _Templates(jinja2.FileSystemBytecodeCache):
        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            try:
                info = os.stat(os.path.join(self.directory, self.pattern % bucket.key))
                if info.st_mode & 0o022 or (
                    hasattr(os, "getuid") and info.st_uid != os.getuid()
                ):
                    return  # writable by others, or not ours: compile from source
                super().load_bytecode(bucket)
            except (OSError, EOFError, ValueError, TypeError):
                bucket.reset()

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            with contextlib.suppress(OSError):
                os.makedirs(self.directory, mode=0o700, exist_ok=True)
                super().dump_bytecode(bucket)

    return _Templates(str(directory() / "templates"))
