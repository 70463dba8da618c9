"""Inspect PNG and JPEG files without decoding them: format, size, channels, integrity.

`plxgen data images` stores the files' bytes unchanged; TensorFlow decodes them
in the input pipeline. What it needs from plxgen is the size of every image
(they must agree) and the certainty that each file will decode, so the checks
here are the ones a decoder would fail on: the PNG chunk CRCs and the length of
the inflated image data, the JPEG marker structure and its end marker.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"

# PNG colour type -> (samples per pixel, colour image?)
_PNG_COLOR_TYPES = {
    0: (1, False),
    2: (3, True),
    3: (1, True),
    4: (2, False),
    6: (4, True),
}
_PNG_BIT_DEPTHS = {
    0: (1, 2, 4, 8, 16),
    2: (8, 16),
    3: (1, 2, 4, 8),
    4: (8, 16),
    6: (8, 16),
}
# Adam7 passes: (x start, y start, x step, y step).
_ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)
# Start-of-frame markers that libjpeg decodes: baseline, extended, progressive
# (Huffman) and their arithmetic-coded variants.
_JPEG_FRAMES = {0xC0, 0xC1, 0xC2, 0xC9, 0xCA}
_JPEG_UNSUPPORTED = {0xC3, 0xC5, 0xC6, 0xC7, 0xCB, 0xCD, 0xCE, 0xCF}


class ImageError(ValueError):
    """A file that is not a PNG or JPEG image TensorFlow can decode."""


@dataclass(frozen=True)
class ImageInfo:
    """What the converter records about one image file."""

    format: str  # "png" or "jpeg"
    height: int
    width: int
    color: bool  # False: grayscale (with or without alpha)


def inspect_image(data: bytes) -> ImageInfo:
    """Check that data is a complete PNG or JPEG file and return its size and kind."""
    if data.startswith(PNG_SIGNATURE):
        return _inspect_png(data)
    if data.startswith(JPEG_SIGNATURE):
        return _inspect_jpeg(data)
    raise ImageError("not a PNG or JPEG image")


def _png_data_size(
    width: int, height: int, bits_per_pixel: int, interlaced: bool
) -> int:
    """Bytes of filtered scanlines an image of this size inflates to."""

    def rows(w: int, h: int) -> int:
        if w == 0 or h == 0:
            return 0
        return h * (1 + (w * bits_per_pixel + 7) // 8)

    if not interlaced:
        return rows(width, height)
    total = 0
    for x0, y0, dx, dy in _ADAM7:
        total += rows(max(0, -(-(width - x0) // dx)), max(0, -(-(height - y0) // dy)))
    return total


def _inspect_png(data: bytes) -> ImageInfo:
    """Walk the chunks (checking each CRC), then inflate the image data."""
    offset = len(PNG_SIGNATURE)
    header: tuple[int, ...] | None = None
    has_palette = False
    inflater = zlib.decompressobj()
    inflated = 0
    ended = False
    while offset < len(data):
        if offset + 12 > len(data):
            raise ImageError("truncated PNG chunk")
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        body = data[offset + 8 : offset + 8 + length]
        if len(body) < length or offset + 12 + length > len(data):
            raise ImageError("truncated PNG chunk")
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        if zlib.crc32(body, zlib.crc32(kind)) & 0xFFFFFFFF != crc:
            raise ImageError(f"corrupt PNG chunk {kind.decode('latin-1')!r} (bad CRC)")
        offset += 12 + length
        if header is None and kind != b"IHDR":
            raise ImageError("PNG does not start with an IHDR chunk")
        if kind == b"IHDR":
            if length != 13:
                raise ImageError("malformed PNG header")
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            has_palette = True
        elif kind == b"IDAT":
            try:
                inflated += len(inflater.decompress(body))
            except zlib.error as error:
                raise ImageError(f"corrupt PNG image data ({error})") from None
        elif kind == b"IEND":
            ended = True
            break
    if header is None:
        raise ImageError("empty PNG file")
    if not ended:
        raise ImageError("truncated PNG file (no IEND chunk)")
    width, height, depth, color_type, compression, filtering, interlace = header
    if width == 0 or height == 0:
        raise ImageError(f"PNG of size {width}x{height}")
    if color_type not in _PNG_COLOR_TYPES or depth not in _PNG_BIT_DEPTHS[color_type]:
        raise ImageError(f"invalid PNG colour type {color_type} with bit depth {depth}")
    if compression != 0 or filtering != 0 or interlace not in (0, 1):
        raise ImageError("invalid PNG compression, filter or interlace method")
    if color_type == 3 and not has_palette:
        raise ImageError("palette PNG without a palette")
    try:
        inflated += len(inflater.flush())
    except zlib.error as error:
        raise ImageError(f"corrupt PNG image data ({error})") from None
    samples, color = _PNG_COLOR_TYPES[color_type]
    expected = _png_data_size(width, height, samples * depth, interlace == 1)
    if not inflater.eof or inflated != expected:
        raise ImageError(
            f"truncated or corrupt PNG image data ({inflated} bytes, expected {expected})"
        )
    return ImageInfo("png", height, width, color)


def _inspect_jpeg(data: bytes) -> ImageInfo:
    """Walk the JPEG segments up to the scan; the file must end with the EOI marker."""
    offset = 2
    frame: tuple[int, int, int] | None = None
    while True:
        # Markers may be preceded by any number of 0xFF fill bytes.
        while offset < len(data) and data[offset] == 0xFF:
            offset += 1
        if offset >= len(data):
            raise ImageError("truncated JPEG file")
        marker = data[offset - 1 : offset + 1]
        code = data[offset]
        offset += 1
        if marker[0] != 0xFF:
            raise ImageError(f"corrupt JPEG file (no marker at byte {offset - 2})")
        if code == 0xD9:
            raise ImageError("JPEG file ends before its image data")
        if 0xD0 <= code <= 0xD7 or code == 0x01:
            continue  # markers without a length
        if offset + 2 > len(data):
            raise ImageError("truncated JPEG file")
        (length,) = struct.unpack(">H", data[offset : offset + 2])
        if length < 2 or offset + length > len(data):
            raise ImageError("truncated JPEG file")
        segment = data[offset + 2 : offset + length]
        if code in _JPEG_UNSUPPORTED:
            raise ImageError(
                "lossless or hierarchical JPEG, which TensorFlow cannot decode"
            )
        if code in _JPEG_FRAMES:
            if len(segment) < 6:
                raise ImageError("malformed JPEG frame header")
            _, height, width, components = struct.unpack(">BHHB", segment[:6])
            frame = (height, width, components)
        if code == 0xDA:  # start of scan: entropy-coded data follows
            break
        offset += length
    if frame is None:
        raise ImageError("JPEG file without a frame header")
    height, width, components = frame
    if height == 0 or width == 0:
        raise ImageError(f"JPEG of size {width}x{height}")
    if components not in (1, 3):
        raise ImageError(
            f"JPEG with {components} colour components (only 1 or 3 decode)"
        )
    # Some writers pad after the end marker; a truncated file has none at all.
    if data.rfind(b"\xff\xd9", offset) < 0:
        raise ImageError("truncated JPEG file (no end-of-image marker)")
    return ImageInfo("jpeg", height, width, components == 3)
