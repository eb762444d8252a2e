"""Reading uploaded photos safely and making the copies we serve.

Every upload is decoded in full before it is accepted: that is the only honest check that a
file is a whole, readable image. The copies we serve are built from pixels alone, so no
EXIF, GPS, XMP or JPEG comment (which can hold the home's address) survives.
"""

import ctypes
import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO

from django.template.defaultfilters import filesizeformat
from PIL import ExifTags, Image, ImageCms, UnidentifiedImageError
from pillow_heif import register_heif_opener

# Pillow format name -> what agents call it, and the extension we store the original under.
ACCEPTED_FORMATS = {
    "JPEG": ("JPEG", "jpg"),
    "PNG": ("PNG", "png"),
    "WEBP": ("WebP", "webp"),
    "HEIF": ("HEIC", "heic"),
}
EXTENSION_FORMATS = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".heic": "HEIF",
    ".heif": "HEIF",
}
ACCEPTED_LABEL = "JPEG, PNG, WebP or HEIC"
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
# By the extension of a stored file: originals, copies and results.
CONTENT_TYPES = {
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".zip": "application/zip",  # a listing's results in one download
}


def configure_pillow(max_pixels: int) -> None:
    register_heif_opener()
    # Pillow's own guard, set to our limit so it neither fires below it nor lets a file far
    # above it start decoding; read_photo_header also checks the size before decoding.
    Image.MAX_IMAGE_PIXELS = max_pixels
    _return_freed_memory()


def release_freed_memory() -> None:
    """Hand memory freed inside glibc's heaps back to the system, after a large decode."""
    if _libc is not None:
        _libc.malloc_trim(0)


def _return_freed_memory() -> None:
    """glibc keeps freed blocks smaller than its mmap threshold for reuse, and raises that
    threshold (up to 32 MB) each time a large block is freed, so after one big photo Pillow's
    16 MB blocks came from the heap and stayed: a web process kept about 1 GB. A fixed
    threshold maps every large buffer on its own and unmaps it when freed."""
    if _libc is not None:
        m_mmap_threshold = -3
        _libc.mallopt(m_mmap_threshold, 1024 * 1024)


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None  # not glibc: its allocator decides
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


_libc = _glibc()


class PhotoRejected(Exception):
    """An upload we cannot accept; the message is written for the agent."""


@dataclass(frozen=True)
class PreparedPhoto:
    format: str
    extension: str
    width: int
    height: int
    byte_size: int
    sha256: str
    display: bytes
    display_extension: str
    thumbnail: bytes
    thumbnail_extension: str


@dataclass(frozen=True)
class PhotoHeader:
    """What an upload's header says, read before any pixel is decoded."""

    image: Image.Image  # opened, not decoded; a JPEG is set to decode at a reduced scale
    full_size: tuple[int, int]
    byte_size: int
    decode_bytes: int  # the memory its pixels will take once decoded


def read_photo_header(
    file: IO[bytes],
    *,
    name: str,
    byte_size: int,
    max_bytes: int,
    max_pixels: int,
    max_decode_bytes: int,
    display_size: int,
) -> PhotoHeader:
    """Check an upload's size, format and the memory it will take, from its header alone.

    Raises PhotoRejected with a message naming the file and what is wrong with it.
    """
    if byte_size == 0:
        raise PhotoRejected(f"{name} is empty (0 bytes). Export the photo again and retry.")
    if byte_size > max_bytes:
        raise PhotoRejected(
            f"{name} is {filesizeformat(byte_size)}; the limit is {filesizeformat(max_bytes)}. "
            "Export it at a smaller size or higher compression."
        )
    claimed = EXTENSION_FORMATS.get(PurePath(name).suffix.lower())
    image, full_size = _open(
        file, name=name, claimed=claimed, max_pixels=max_pixels, draft_box=display_size
    )
    cost = decode_bytes(image)
    if cost > max_decode_bytes:
        width, height = full_size
        raise PhotoRejected(
            f"{name} would take {_megabytes(cost)} of memory to open ({width:,} × {height:,} "
            f"pixels, {MODE_LABELS.get(image.mode, image.mode)}); the limit is "
            f"{_megabytes(max_decode_bytes)}. Export it at a smaller size, or as an 8-bit JPEG."
        )
    return PhotoHeader(image=image, full_size=full_size, byte_size=byte_size, decode_bytes=cost)


# Bytes Pillow holds per pixel once an image is decoded: colour is padded to 4 (RGB costs as
# much as RGBA), 16-bit colour is reduced to 8 bits per channel while decoding, 16-bit grey
# keeps 2, grey with alpha takes 4.
BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
# WebP and HEIF decoders hand Pillow a full copy of the pixels they decoded: two at once.
DECODER_COPIES = {"WEBP": 2, "HEIF": 2}
MODE_LABELS = {
    "1": "black and white",
    "L": "8-bit grey",
    "P": "8-bit palette",
    "I;16": "16-bit grey",
    "I;16B": "16-bit grey",
    "I;16L": "16-bit grey",
    "LA": "grey with transparency",
    "PA": "palette with transparency",
    "RGB": "colour",
    "RGBA": "colour with transparency",
    "CMYK": "CMYK colour",
}


def decode_bytes(image: Image.Image) -> int:
    """The memory an opened image's pixels will take once decoded, at the scale it will be
    decoded at (a JPEG's reduced draft scale)."""
    width, height = image.size
    per_pixel = BYTES_PER_PIXEL.get(image.mode, 4)
    return width * height * per_pixel * DECODER_COPIES.get(image.format or "", 1)


def prepare_photo(
    header: PhotoHeader, file: IO[bytes], *, name: str, display_size: int, thumbnail_size: int
) -> PreparedPhoto:
    """Decode a checked upload in full (the only honest proof that it is a whole, readable
    image) and make its display copy and thumbnail. Past the decoded pixels themselves, this
    takes a few bands of rows and the copies: no other full-size image is ever made.

    Raises PhotoRejected if the file turns out damaged.
    """
    image = header.image
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image.load()
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise _too_many_pixels(name, Image.MAX_IMAGE_PIXELS or 0) from None
        except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
            raise _damaged(name) from exc
    # Orientation first: the served copies, the stored size and (later) masks all follow it.
    orientation = _orientation(image)
    icc_profile = image.info.get("icc_profile")
    full_size = header.full_size
    width, height = full_size[::-1] if orientation in (5, 6, 7, 8) else full_size
    # Shrink before anything else, so a 100 MP PNG is copied and converted at display size.
    small = _shrunk(image, display_size)
    upright = _upright(small, orientation, icc_profile)
    copies = served_copies(upright, display_size=display_size, thumbnail_size=thumbnail_size)
    kind = str(image.format)  # one of ACCEPTED_FORMATS: checked on opening
    return PreparedPhoto(
        format=kind,
        extension=ACCEPTED_FORMATS[kind][1],
        width=width,
        height=height,
        byte_size=header.byte_size,
        sha256=_sha256(file),
        display=copies.display,
        display_extension=copies.extension,
        thumbnail=copies.thumbnail,
        thumbnail_extension=copies.extension,
    )


@dataclass(frozen=True)
class ServedCopies:
    display: bytes
    thumbnail: bytes
    extension: str


def served_copies(image: Image.Image, *, display_size: int, thumbnail_size: int) -> ServedCopies:
    """The display copy and thumbnail of an upright sRGB image, without metadata."""
    display = _fitted(image, display_size)
    display_bytes, extension = _encode(display)
    thumbnail_bytes, _ = _encode(_fitted(display, thumbnail_size))
    return ServedCopies(display_bytes, thumbnail_bytes, extension)


def encode_full(image: Image.Image) -> tuple[bytes, str]:
    """A full-size result: PNG when it has transparency, else a high-quality JPEG."""
    buffer = io.BytesIO()
    if image.mode == "RGBA":
        image.save(buffer, "PNG", compress_level=6)
        return buffer.getvalue(), "png"
    image.convert("RGB").save(buffer, "JPEG", quality=92, subsampling=0)
    return buffer.getvalue(), "jpg"


def load_upright(file: IO[bytes], *, draft_box: int | None = None) -> Image.Image:
    """A stored photo, upright, in sRGB, as RGB: at full size, or with `draft_box` a JPEG
    decoded at the smallest scale still covering that box (a quarter of the memory and
    time of a 50 MP decode, for a copy that is resized anyway)."""
    file.seek(0)
    with Image.open(file) as image:
        if draft_box and image.format == "JPEG":
            image.draft("RGB", _fitted_size(image.size, draft_box))
        upright = _upright(image, _orientation(image), image.info.get("icc_profile"))
        return upright.convert("RGB")


def _open(
    file: IO[bytes], *, name: str, claimed: str | None, max_pixels: int, draft_box: int
) -> tuple[Image.Image, tuple[int, int]]:
    """The opened image, not yet decoded (a JPEG set to a reduced scale), and its full size."""
    file.seek(0)
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; we refuse either way.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(file)
        except UnidentifiedImageError:
            if _looks_like_an_image(file):
                raise _damaged(name) from None
            if claimed:
                label = ACCEPTED_FORMATS[claimed][0]
                raise PhotoRejected(
                    f"{name} is named like a {label} photo but is not an image at all "
                    "(it may be another kind of file renamed). Upload the original photo."
                ) from None
            raise PhotoRejected(
                f"{name} is not a photo we can read. Upload {ACCEPTED_LABEL} files."
            ) from None
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise _too_many_pixels(name, max_pixels) from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise _damaged(name) from exc

        if image.format not in ACCEPTED_FORMATS:
            article = "an" if (image.format or "?")[0] in "AEFHILMNORSX" else "a"
            raise PhotoRejected(
                f"{name} is {article} {image.format} image. Upload {ACCEPTED_LABEL} files; most "
                "photo apps can export one of them."
            )
        if image.width * image.height > max_pixels:
            raise _too_many_pixels(name, max_pixels, image.size)

        full_size = image.size
        if image.format == "JPEG":
            # Decode at the smallest DCT scale that still covers the display copy. libjpeg
            # still reads every byte of the file, so damage is found just the same.
            image.draft(image.mode, _fitted_size(image.size, draft_box))
    return image, full_size


def _looks_like_an_image(file: IO[bytes]) -> bool:
    """Whether the file starts like one of our formats, though Pillow could not parse it."""
    file.seek(0)
    head = file.read(16)
    return (
        head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"))
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
        or (head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS)
    )


# EXIF orientation -> the transpose that makes the photo upright (as ImageOps.exif_transpose).
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation, or 1 when the EXIF block is missing or malformed: a broken
    camera tag must not cost the agent the photo."""
    try:
        value = image.getexif().get(ExifTags.Base.Orientation, 1)
        return value if value in UPRIGHT else 1
    except Exception:
        return 1


# Modes Image.reduce() takes without a full-size copy; the others (RGBA and LA are first
# premultiplied into a copy) are converted and reduced band by band.
REDUCIBLE = {"L", "RGB", "CMYK", "I", "F"}
# A band of rows converted at a time: small beside a decoded photo, large enough to be quick.
BAND_BYTES = 16 * 1024 * 1024


def _shrunk(image: Image.Image, box: int) -> Image.Image:
    """Box-average by a whole factor while still at least `box` on the long side. Modes that
    cannot be reduced as they are (16-bit grey, palette, black and white) are converted to
    8-bit a band of rows at a time, so no second full-size image is ever made."""
    factor = max(1, max(image.size) // box)
    if image.mode in REDUCIBLE:
        return image.reduce(factor) if factor >= 2 else image
    width, height = image.size
    mode = _band_mode(image)
    shrunk = Image.new(mode, (-(-width // factor), -(-height // factor)))
    rows = max(1, BAND_BYTES // (width * 4) // factor) * factor
    for top in range(0, height, rows):
        band = _eight_bit(image.crop((0, top, width, min(height, top + rows))), mode)
        shrunk.paste(band.reduce(factor) if factor >= 2 else band, (0, top // factor))
    return shrunk


def _band_mode(image: Image.Image) -> str:
    if image.mode in ("RGBA", "LA"):
        return image.mode
    if image.mode in ("P", "PA"):
        return "RGBA" if image.mode == "PA" or "transparency" in image.info else "RGB"
    return "L"


def _eight_bit(band: Image.Image, mode: str) -> Image.Image:
    if band.mode.startswith("I;16"):
        return band.convert("I").point(lambda v: v / 256).convert("L")
    return band if band.mode == mode else band.convert(mode)


def _upright(image: Image.Image, orientation: int, icc_profile: bytes | None) -> Image.Image:
    """RGB or RGBA in sRGB, turned upright. ICC profiles are applied, then dropped: they can
    be megabytes large and carry arbitrary text."""
    if orientation in UPRIGHT:
        image = image.transpose(UPRIGHT[orientation])
    image = _to_srgb(image, icc_profile) if icc_profile else image
    return _to_display_mode(image)


def _to_srgb(image: Image.Image, icc_profile: bytes) -> Image.Image:
    if image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(image, source, SRGB, outputMode=mode) or image
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image  # an unreadable profile: show the pixels as they are


def _too_many_pixels(
    name: str, max_pixels: int, size: tuple[int, int] | None = None
) -> "PhotoRejected":
    found = f" ({size[0]:,} × {size[1]:,} = {_megapixels(size[0] * size[1])})" if size else ""
    return PhotoRejected(
        f"{name} has too many pixels{found}; the limit is {_megapixels(max_pixels)}. "
        "Export it at a smaller size."
    )


def _megabytes(size: int) -> str:
    return f"{size / 1e6:,.0f} MB"


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.1f}".removesuffix(".0") + " megapixels"


def _damaged(name: str) -> PhotoRejected:
    return PhotoRejected(
        f"{name} is damaged or incomplete (it may have been cut off while copying). "
        "Export or copy it again and retry."
    )


def _to_display_mode(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the photo really has transparent pixels."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.convert("I").point(lambda v: v / 256).convert("L")
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if has_alpha:
        image = image.convert("RGBA")
        if image.getchannel("A").getextrema() != (255, 255):
            return image
    return image.convert("RGB") if image.mode != "RGB" else image


def _fitted_size(size: tuple[int, int], box: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, box / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _fitted(image: Image.Image, box: int) -> Image.Image:
    size = _fitted_size(image.size, box)
    if size == image.size:
        return image.copy()
    # Bicubic, like Pillow's thumbnail(): antialiased when shrinking, a third cheaper than Lanczos.
    return image.resize(size, Image.Resampling.BICUBIC, reducing_gap=3.0)


def _encode(image: Image.Image) -> tuple[bytes, str]:
    """Encode from pixels only. A new image carries no metadata; Pillow would otherwise write
    the source's JPEG comment into the copy."""
    clean = Image.frombytes(image.mode, image.size, image.tobytes())
    buffer = io.BytesIO()
    if clean.mode == "RGBA":
        clean.save(buffer, "PNG", compress_level=6)
        return buffer.getvalue(), "png"
    clean.save(buffer, "JPEG", quality=85, progressive=True)
    return buffer.getvalue(), "jpg"


LOGO_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
LOGO_LABEL = "PNG, JPEG or WebP"


def prepare_logo(
    file: IO[bytes], *, name: str, byte_size: int, max_bytes: int, max_pixels: int, box: int
) -> bytes:
    """An agent's logo, checked like any upload (size in bytes, format, pixels from the
    header, then decoded in full) and re-encoded from its pixels as a PNG no larger than
    `box`: no metadata, no second frame, nothing of the file but the picture.

    Raises PhotoRejected with a message naming the file and what is wrong with it.
    """
    if byte_size == 0:
        raise PhotoRejected(f"{name} is empty (0 bytes). Export the logo again and retry.")
    if byte_size > max_bytes:
        raise PhotoRejected(
            f"{name} is {filesizeformat(byte_size)}; a logo may be at most "
            f"{filesizeformat(max_bytes)}. Export it smaller, as PNG or JPEG."
        )
    file.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(file, formats=list(LOGO_FORMATS)) as image:
                if image.width * image.height > max_pixels:
                    raise PhotoRejected(
                        f"{name} is {image.width:,} × {image.height:,} pixels; a logo may have "
                        f"at most {_megapixels(max_pixels)}. Export it smaller."
                    )
                if image.format == "JPEG":
                    image.draft(image.mode, _fitted_size(image.size, box))
                image.load()
                upright = _upright(image, _orientation(image), image.info.get("icc_profile"))
        except UnidentifiedImageError:
            raise PhotoRejected(
                f"{name} is not a {LOGO_LABEL} image. Export your logo in one of these formats."
            ) from None
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise PhotoRejected(
                f"{name} has too many pixels for a logo. Export it smaller."
            ) from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise PhotoRejected(
                f"{name} is damaged or incomplete. Export your logo again and retry."
            ) from exc
    logo = _fitted(upright, box)
    clean = Image.frombytes(logo.mode, logo.size, logo.tobytes())
    buffer = io.BytesIO()
    clean.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _sha256(file: IO[bytes]) -> str:
    file.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: file.read(1024 * 1024), b""):
        digest.update(chunk)
    return digest.hexdigest()
