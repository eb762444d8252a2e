"""Test images made on the fly: every format we accept, with and without metadata."""

import io
import struct
import zlib

from PIL import Image
from pillow_heif import register_heif_opener

register_heif_opener()

RED, BLUE, GREEN = (220, 30, 30), (30, 30, 220), (30, 180, 60)


def two_band_image(size: tuple[int, int] = (600, 400)) -> Image.Image:
    """Red top half, blue bottom half: orientation mistakes show as swapped or sideways bands."""
    width, height = size
    image = Image.new("RGB", size, BLUE)
    image.paste(RED, (0, 0, width, height // 2))
    return image


def jpeg_bytes(
    size: tuple[int, int] = (600, 400),
    *,
    orientation: int | None = None,
    gps: bool = False,
    comment: bytes | None = None,
    image: Image.Image | None = None,
    quality: int = 90,
) -> bytes:
    image = image or two_band_image(size)
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if gps:
        exif[0x010F] = "PhoneMaker"
        exif.get_ifd(0x8825).update({1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 7.0)})
    buffer = io.BytesIO()
    options = {"quality": quality, "exif": exif.tobytes()}
    if comment:
        options["comment"] = comment
    image.save(buffer, "JPEG", **options)
    return buffer.getvalue()


def encoded(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def png_bytes(size: tuple[int, int] = (500, 300), *, mode: str = "RGB") -> bytes:
    image = two_band_image(size).convert(mode)
    return encoded(image, "PNG")


def webp_bytes(size: tuple[int, int] = (480, 320)) -> bytes:
    return encoded(two_band_image(size), "WEBP", quality=85)


def heic_bytes(size: tuple[int, int] = (480, 320)) -> bytes:
    return encoded(two_band_image(size), "HEIF", quality=80)


def png_claiming_size(width: int, height: int, *, mode: str = "RGB") -> bytes:
    """A tiny PNG whose header claims a huge size: a decompression bomb. Its bit depth and
    colour type are those of `mode` ("I;16" for 16-bit grey)."""
    data = encoded(Image.new(mode, (8, 8)), "PNG")
    ihdr_start = 8 + 8  # signature, then length + type of the IHDR chunk
    ihdr = struct.pack(">II", width, height) + data[ihdr_start + 8 : ihdr_start + 13]
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return data[:ihdr_start] + ihdr + crc + data[ihdr_start + 17 :]


def open_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def malformed_exif_jpeg() -> bytes:
    """A JPEG that decodes, but whose EXIF block makes Pillow's exif_transpose raise (three
    bytes changed, found by fuzzing): cameras and editors do write such files."""
    data = bytearray(jpeg_bytes((64, 48), orientation=6, gps=True))
    for offset, value in ((75, 54), (80, 236), (106, 98)):
        data[offset] = value
    return bytes(data)


def jpeg_with_icc(profile: bytes, size: tuple[int, int] = (120, 80)) -> bytes:
    return encoded(two_band_image(size), "JPEG", quality=90, icc_profile=profile)
