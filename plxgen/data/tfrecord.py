"""Pure-Python writers for PNG images, tf.train.Example protobufs and TFRecord files.

plxgen must never import tensorflow, so the dataset converters build the bytes
that TensorFlow reads by hand: everything here uses only the standard library
and numpy.
"""

from __future__ import annotations

import math
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
        # Level 6 (zlib's default, as TensorFlow's encoder uses): level 9
        # takes twice as long for about 2% smaller files.
        + _png_chunk(b"IDAT", zlib.compress(raw, 6))
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


_SMALL_VARINTS = tuple(bytes((value,)) for value in range(0x80))


def _varint(value: int) -> bytes:
    """Encode a non-negative integer as a protobuf base-128 varint."""
    if value < 0x80:
        return _SMALL_VARINTS[value]
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


def feature_entry(key: str, value: FeatureValue) -> bytes:
    """One serialised entry of the Features.feature map (key -> Feature)."""
    entry = _length_field(1, key.encode("utf-8")) + _length_field(
        2, _feature_bytes(key, value)
    )
    return _length_field(1, entry)


def example_from_entries(entries: Sequence[bytes]) -> bytes:
    """A tf.train.Example from feature_entry() results, given in key order."""
    return _length_field(1, b"".join(entries))  # Example.features


def example_bytes(features: dict[str, FeatureValue]) -> bytes:
    """Serialise a tf.train.Example; map entries are sorted by key for determinism."""
    return example_from_entries(
        [feature_entry(key, features[key]) for key in sorted(features)]
    )


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
    return _mask(crc32c(data))


def _mask(crc: int) -> int:
    """Rotate and offset a CRC-32C the way TFRecord files store it."""
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


# Batched CRC-32C in numpy. The CRC is linear over GF(2), so a message can be
# cut into equal chunks whose CRCs are computed side by side (one numpy step
# per 4-byte column) and then folded together with the "append CHUNK zero
# bytes" operator. Two facts make the chunks independent: with a zero start
# register, leading zero bytes leave the register at zero (so chunks can be
# left-padded), and the standard start value 0xFFFFFFFF is the same as a zero
# register with the message's first four bytes inverted.


def _slice_tables() -> np.ndarray:
    """Slicing-by-4 tables: row k maps a byte to its CRC followed by k zero bytes."""
    tables = np.zeros((4, 256), np.uint32)
    tables[0] = _CRC32C_TABLE
    for k in range(1, 4):
        previous = tables[k - 1]
        tables[k] = (previous >> 8) ^ tables[0][previous & 0xFF]
    return tables


_SLICE_TABLES = _slice_tables()
# The same maps for 16-bit halves of the register: two lookups per 4 bytes.
_LOW_HALF = (
    _SLICE_TABLES[3][np.arange(65536) & 0xFF] ^ _SLICE_TABLES[2][np.arange(65536) >> 8]
)
_HIGH_HALF = (
    _SLICE_TABLES[1][np.arange(65536) & 0xFF] ^ _SLICE_TABLES[0][np.arange(65536) >> 8]
)


def _raw_zeros(register: int, count: int) -> int:
    """The register after count zero bytes (no start value or final inversion)."""
    table = _CRC32C_TABLE
    for _ in range(count):
        register = table[register & 0xFF] ^ (register >> 8)
    return register


_SHIFT_TABLES: dict[int, np.ndarray] = {}


def _shift_tables(count: int) -> np.ndarray:
    """Byte tables of the linear map "append count zero bytes" (4 x 256)."""
    tables = _SHIFT_TABLES.get(count)
    if tables is None:
        basis = [_raw_zeros(1 << bit, count) for bit in range(32)]
        tables = np.zeros((4, 256), np.uint32)
        for position in range(4):
            for value in range(256):
                out = 0
                for bit in range(8):
                    if value >> bit & 1:
                        out ^= basis[8 * position + bit]
                tables[position, value] = out
        _SHIFT_TABLES[count] = tables
    return tables


def _chunk_size(longest: int) -> int:
    """A chunk length (a multiple of 4) that balances the two numpy loops."""
    size = 4 * math.ceil(math.isqrt(max(longest, 1)) / 4)
    return min(max(size, 16), 16384)


def crc32c_many(messages: Sequence[bytes]) -> list[int]:
    """CRC-32C of each message, computed together with numpy (equals map(crc32c, ...))."""
    result = [0] * len(messages)
    batch = [i for i, message in enumerate(messages) if len(message) >= 4]
    for i, message in enumerate(messages):
        if len(message) < 4:
            result[i] = crc32c(message)
    if not batch:
        return result
    lengths = np.array([len(messages[i]) for i in batch], np.int64)
    chunk = _chunk_size(int(lengths.max()))
    chunks = -(-lengths // chunk)
    padding = chunks * chunk - lengths
    # Left-pad every message with zeros to a whole number of chunks.
    pieces: list[bytes] = []
    for i, pad in zip(batch, padding.tolist()):
        pieces.append(bytes(pad))
        pieces.append(messages[i])
    data = np.frombuffer(b"".join(pieces), np.uint8).copy()
    starts = np.concatenate([[0], np.cumsum(chunks * chunk)[:-1]]) + padding
    for offset in range(4):
        data[starts + offset] ^= 0xFF
    words = data.view("<u4").reshape(-1, chunk // 4)
    low, high = _LOW_HALF, _HIGH_HALF
    register = np.zeros(len(words), np.uint32)
    for column in range(chunk // 4):
        register ^= words[:, column]
        register = low[register & 0xFFFF] ^ high[register >> 16]
    # Fold each message's chunk CRCs; right-aligned so that the zero padding
    # chunks come first and change nothing.
    most = int(chunks.max())
    grid = np.zeros((len(batch), most), np.uint32)
    rows = np.repeat(np.arange(len(batch)), chunks)
    cols = np.arange(len(words)) - np.repeat(np.cumsum(chunks) - chunks, chunks)
    grid[rows, cols + (most - chunks)[rows]] = register
    s0, s1, s2, s3 = _shift_tables(chunk)
    folded = grid[:, 0].copy()
    for column in range(1, most):
        folded = (
            s0[folded & 0xFF]
            ^ s1[(folded >> 8) & 0xFF]
            ^ s2[(folded >> 16) & 0xFF]
            ^ s3[folded >> 24]
        ) ^ grid[:, column]
    for i, crc in zip(batch, (folded ^ np.uint32(0xFFFFFFFF)).tolist()):
        result[i] = int(crc)
    return result


def frame_records(records: Sequence[bytes]) -> bytes:
    """The TFRecord framing of records, back to back, with batched CRCs."""
    lengths = [struct.pack("<Q", len(record)) for record in records]
    length_crcs = crc32c_many(lengths)
    data_crcs = crc32c_many(records)
    parts: list[bytes] = []
    for length, length_crc, record, data_crc in zip(
        lengths, length_crcs, records, data_crcs
    ):
        parts += [
            length,
            struct.pack("<I", _mask(length_crc)),
            record,
            struct.pack("<I", _mask(data_crc)),
        ]
    return b"".join(parts)


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

    def write_many(self, records: Sequence[bytes]) -> None:
        """Append records, computing their checksums together (much faster than write())."""
        if self._closed:
            raise ValueError(f"{self.path}: write to a closed TFRecordWriter")
        if records:
            self._handle.write(frame_records(records))

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
