"""Pure-Python writers for PNG images, tf.train.Example protobufs and TFRecord files.

plxgen must never import tensorflow, so the dataset converters build the bytes
that TensorFlow reads by hand: everything here uses only the standard library
and numpy.
"""

from __future__ import annotations

import os
import secrets
import struct
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Union

import numpy as np

# ---------------------------------------------------------------------------
# PNG
# ---------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# channels -> PNG colour type: grey, grey+alpha, RGB, RGBA.
_PNG_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    """Frame one PNG chunk: length, type, data, CRC-32 of type and data."""
    crc = zlib.crc32(data, zlib.crc32(kind)) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def encode_png(pixels: np.ndarray) -> bytes:
    """Encode an 8-bit HxW or HxWxC (C in 1..4) uint8 array as a PNG file."""
    array = np.asarray(pixels)
    if array.dtype != np.uint8:
        raise TypeError(f"encode_png needs a uint8 array, got {array.dtype}")
    if array.ndim == 2:
        array = array[:, :, np.newaxis]
    if array.ndim != 3 or array.shape[2] not in _PNG_COLOR_TYPES:
        raise ValueError(
            f"encode_png needs HxW or HxWxC with C in 1..4, got {array.shape}"
        )
    height, width, channels = array.shape
    if height == 0 or width == 0:
        raise ValueError(f"encode_png needs a non-empty image, got {array.shape}")
    header = struct.pack(
        ">IIBBBBB", width, height, 8, _PNG_COLOR_TYPES[channels], 0, 0, 0
    )
    # Every scanline starts with filter type 0 (None); zlib does the work.
    rows = np.ascontiguousarray(array).reshape(height, width * channels)
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rows], axis=1).tobytes()
    return (
        _PNG_SIGNATURE
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw, 9))
        + _png_chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------------------
# tf.train.Example
# ---------------------------------------------------------------------------

FeatureValue = Union[
    bytes,
    str,
    int,
    float,
    Sequence[int],
    Sequence[float],
    Sequence[bytes],
    Sequence[str],
]

_WIRE_LENGTH = 2  # wire type of length-delimited fields


def _varint(value: int) -> bytes:
    """Encode a non-negative integer as a protobuf base-128 varint."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _length_field(number: int, payload: bytes) -> bytes:
    """Encode a length-delimited protobuf field (bytes, strings, sub-messages)."""
    return _varint(number << 3 | _WIRE_LENGTH) + _varint(len(payload)) + payload


def _is_int(value: object) -> bool:
    """True for Python and numpy integers (bool excluded: it is almost always a slip)."""
    return isinstance(value, (int, np.integer)) and not isinstance(
        value, (bool, np.bool_)
    )


def _is_float(value: object) -> bool:
    """True for Python and numpy floats."""
    return isinstance(value, (float, np.floating))


def _feature_bytes(key: str, value: FeatureValue) -> bytes:
    """Serialise one tf.train.Feature (bytes_list=1, float_list=2, int64_list=3)."""
    if isinstance(value, (bytes, str, bytearray)) or _is_int(value) or _is_float(value):
        items: list[object] = [value]
    elif isinstance(value, (list, tuple, np.ndarray)):
        items = list(value)
    else:
        raise TypeError(
            f"feature {key!r}: cannot store a {type(value).__name__}"
            " (use bytes, str, int, float or a list of them)"
        )
    if not items:
        # An empty list has no kind; guessing one would silently change the schema.
        raise ValueError(f"feature {key!r}: empty lists are ambiguous")
    if all(isinstance(item, (bytes, bytearray, str)) for item in items):
        payload = b"".join(
            _length_field(
                1, item.encode("utf-8") if isinstance(item, str) else bytes(item)  # type: ignore[call-overload]
            )
            for item in items
        )
        return _length_field(1, payload)
    if all(_is_int(item) for item in items):
        packed = b""
        for item in items:
            number = int(item)  # type: ignore[call-overload]
            if not -(2**63) <= number < 2**63:
                raise ValueError(f"feature {key!r}: {number} does not fit in int64")
            # Negative int64 values are varints of their 64-bit two's complement.
            packed += _varint(number & 0xFFFFFFFFFFFFFFFF)
        return _length_field(3, _length_field(1, packed))
    if all(_is_int(item) or _is_float(item) for item in items):
        floats = [float(item) for item in items]  # type: ignore[arg-type]
        packed = struct.pack(f"<{len(floats)}f", *floats)
        return _length_field(2, _length_field(1, packed))
    kinds = sorted({type(item).__name__ for item in items})
    raise TypeError(f"feature {key!r}: cannot store values of type {', '.join(kinds)}")


def example_bytes(features: dict[str, FeatureValue]) -> bytes:
    """Serialise a tf.train.Example; map entries are sorted by key for determinism."""
    entries = b""
    for key in sorted(features):
        entry = _length_field(1, key.encode("utf-8")) + _length_field(
            2, _feature_bytes(key, features[key])
        )
        entries += _length_field(1, entry)  # Features.feature map entry
    return _length_field(1, entries)  # Example.features


# ---------------------------------------------------------------------------
# CRC-32C and TFRecord framing
# ---------------------------------------------------------------------------


def _crc32c_table() -> tuple[int, ...]:
    """Build the 256-entry lookup table for the reflected Castagnoli polynomial."""
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC32C_TABLE = _crc32c_table()


def crc32c(data: bytes, crc: int = 0) -> int:
    """CRC-32C (Castagnoli) of data, continuing from crc."""
    table = _CRC32C_TABLE  # a local lookup is noticeably faster in the hot loop
    crc ^= 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """The rotated-and-offset CRC-32C that TFRecord files store."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _open_temp_beside(path: Path) -> tuple[Path, BinaryIO]:
    """Create a fresh hidden temporary file in path's folder, honouring the umask."""
    while True:
        temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        return temp, os.fdopen(fd, "wb")


def write_file_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write data to path via a temporary file and os.replace, so readers never see half a file."""
    target = Path(path)
    temp, handle = _open_temp_beside(target)
    try:
        with handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


class TFRecordWriter:
    """Write a TFRecord file atomically: a temp file renamed into place on a clean close."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._temp, self._handle = _open_temp_beside(self.path)
        self._closed = False

    def write(self, record: bytes) -> None:
        """Append one record: length, masked CRC of length, data, masked CRC of data."""
        if self._closed:
            raise ValueError(f"{self.path}: write to a closed TFRecordWriter")
        length = struct.pack("<Q", len(record))
        self._handle.write(
            length
            + struct.pack("<I", masked_crc32c(length))
            + record
            + struct.pack("<I", masked_crc32c(record))
        )

    def close(self) -> None:
        """Flush the records and move the finished file to its final path."""
        if self._closed:
            return
        self._closed = True
        try:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            os.replace(self._temp, self.path)
        except BaseException:
            self._discard()
            raise

    def abort(self) -> None:
        """Drop everything written so far; the final path is left untouched."""
        if self._closed:
            return
        self._closed = True
        self._discard()

    def _discard(self) -> None:
        """Close and delete the temporary file, ignoring errors from a broken disk."""
        try:
            self._handle.close()
        except OSError:
            pass
        self._temp.unlink(missing_ok=True)

    def __enter__(self) -> TFRecordWriter:
        """Return the writer itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Publish the file on a clean exit; discard it if the block raised."""
        if exc_type is None:
            self.close()
        else:
            self.abort()


def read_records(path: str | os.PathLike[str]) -> Iterator[bytes]:
    """Yield the records of a TFRecord file, checking both CRCs of each one."""
    with open(path, "rb") as handle:
        offset = 0
        while True:
            header = handle.read(12)
            if not header:
                return
            if len(header) < 12:
                raise ValueError(f"{path}: truncated record header at byte {offset}")
            length_bytes, length_crc = header[:8], struct.unpack("<I", header[8:])[0]
            if masked_crc32c(length_bytes) != length_crc:
                raise ValueError(f"{path}: corrupt record length at byte {offset}")
            (length,) = struct.unpack("<Q", length_bytes)
            data = handle.read(length)
            footer = handle.read(4)
            if len(data) < length or len(footer) < 4:
                raise ValueError(f"{path}: truncated record at byte {offset}")
            if masked_crc32c(data) != struct.unpack("<I", footer)[0]:
                raise ValueError(f"{path}: corrupt record data at byte {offset}")
            yield data
            offset += 16 + length
