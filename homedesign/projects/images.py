"""Reading uploaded photos safely and making the copies we serve.

Every upload is decoded in full before it is accepted: that is the only honest check that a
file is a whole, readable image. The copies we serve are built from pixels alone, so no
EXIF, GPS, XMP or JPEG comment (which can hold the home's address) survives.
"""

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
    # above it start decoding; prepare_photo also checks the size itself before decoding.
    Image.MAX_IMAGE_PIXELS = max_pixels


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


def prepare_photo(
    file: IO[bytes],
    *,
    name: str,
    byte_size: int,
    max_bytes: int,
    max_pixels: int,
    display_size: int,
    thumbnail_size: int,
) -> PreparedPhoto:
    """Verify an uploaded file and make its display copy and thumbnail.

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
    # Orientation first: the served copies, the stored size and (later) masks all follow it.
    orientation = _orientation(image)
    width, height = full_size[::-1] if orientation in (5, 6, 7, 8) else full_size
    # Shrink before anything else, so a 100 MP PNG is copied and converted at display size.
    small = _shrunk(image, display_size)
    upright = _upright(small, orientation)
    copies = served_copies(upright, display_size=display_size, thumbnail_size=thumbnail_size)
    kind = str(image.format)  # one of ACCEPTED_FORMATS: checked on opening
    return PreparedPhoto(
        format=kind,
        extension=ACCEPTED_FORMATS[kind][1],
        width=width,
        height=height,
        byte_size=byte_size,
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
        return _upright(image, _orientation(image)).convert("RGB")


def _open(
    file: IO[bytes], *, name: str, claimed: str | None, max_pixels: int, draft_box: int
) -> tuple[Image.Image, tuple[int, int]]:
    """The decoded image (a JPEG possibly at a reduced scale) and its full size."""
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
        try:
            image.load()
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise _too_many_pixels(name, max_pixels) from None
        except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
            raise _damaged(name) from exc
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


def _shrunk(image: Image.Image, box: int) -> Image.Image:
    """Box-average by a whole factor while still at least `box` on the long side."""
    factor = max(image.size) // box
    if factor < 2 or image.mode not in ("RGB", "RGBA", "L", "LA"):
        return image
    return image.reduce(factor)


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    """RGB or RGBA in sRGB, turned upright. ICC profiles are applied, then dropped: they can
    be megabytes large and carry arbitrary text."""
    icc_profile = image.info.get("icc_profile")
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


def _sha256(file: IO[bytes]) -> str:
    file.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: file.read(1024 * 1024), b""):
        digest.update(chunk)
    return digest.hexdigest()
