"""Masks: checking what the editor exported, and converting it for each provider.

The editor exports AI HomeDesign's convention: a PNG of exactly the photo's upright size in
which every pixel is either opaque #7878CD (edit here) or fully transparent (keep). Inside
the app a mask is a boolean array, True where the photo is to be edited; every provider's
convention is converted from that array here and nowhere else.
"""

import io
import warnings
from typing import IO

import numpy as np
from PIL import Image, UnidentifiedImageError

MAX_MASK_BYTES = 20 * 1024 * 1024
PAINT = (0x78, 0x78, 0xCD, 255)
CLEAR = (0, 0, 0, 0)
_PAINT_WORD = np.array(PAINT, np.uint8).view(np.uint32)[0]
_CLEAR_WORD = np.uint32(0)


class MaskRejected(Exception):
    """The message is for the agent."""


def read_mask(file: IO[bytes], *, size: tuple[int, int]) -> np.ndarray:
    """Check an exported mask and return it as a boolean array. Raises MaskRejected."""
    file.seek(0)
    data = file.read(MAX_MASK_BYTES + 1)
    if len(data) > MAX_MASK_BYTES:
        raise MaskRejected("The mask file is larger than 20 MB; a mask PNG should be far smaller.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data))
        if image.format != "PNG":
            raise MaskRejected(f"The mask must be a PNG image, not {image.format}.")
        if image.size != size:
            raise MaskRejected(
                f"The mask is {image.width} × {image.height} pixels but the photo is "
                f"{size[0]} × {size[1]}; it must be exactly the photo's size."
            )
        image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise MaskRejected(
            f"The mask is far larger than the photo; it must be exactly {size[0]} × {size[1]}."
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise MaskRejected("The mask is not a readable PNG image.") from None
    if image.mode in ("P", "PA", "LA") and ("A" in image.mode or "transparency" in image.info):
        image = image.convert("RGBA")  # the same two colours, stored another way
    if image.mode != "RGBA":
        raise MaskRejected(
            f"The mask has no transparency (it is {image.mode}): painted pixels must be "
            "#7878CD and everything else transparent."
        )
    # Each pixel as one 32-bit number: two comparisons instead of eight per pixel.
    pixels = np.ascontiguousarray(np.asarray(image)).view(np.uint32)[..., 0]
    painted = pixels == _PAINT_WORD
    clear = pixels == _CLEAR_WORD
    if not np.all(painted | clear):
        stray = int((~(painted | clear)).sum())
        raise MaskRejected(
            f"{stray:,} pixels of the mask are neither the brush colour #7878CD (opaque) nor "
            "fully transparent. Export the mask from the editor again."
        )
    if not painted.any():
        raise MaskRejected("The mask is empty: paint the area to edit.")
    return painted


def check_coverage(share: float, *, at_most: float) -> None:
    """`share` is the painted part of the photo, 0 to 1."""
    if share > at_most:
        raise MaskRejected(
            f"The mask covers {share:.0%} of the photo; paint only what should change "
            f"(at most {at_most:.0%})."
        )


def to_binary(painted: np.ndarray) -> np.ndarray:
    """8-bit, 255 where the photo is to be edited: OpenCV's and our engine's convention."""
    return painted.astype(np.uint8) * 255


def to_editor_png(painted: np.ndarray) -> bytes:
    """Back to the editor's (and AI HomeDesign's) convention."""
    pixels = np.zeros((*painted.shape, 4), np.uint8)
    pixels[painted] = PAINT
    return _png(Image.fromarray(pixels, "RGBA"))


def to_white_on_black_png(painted: np.ndarray) -> bytes:
    """White on black, for providers that fetch a mask by URL (IACrea)."""
    return _png(Image.fromarray(to_binary(painted), "L"))


def to_object_remover_png(painted: np.ndarray, *, mode: str = "RGBA") -> bytes:
    """The object-remover API: in RGBA, alpha 0 marks what to remove; in greyscale, any
    value above 0 does."""
    if mode == "L":
        return to_white_on_black_png(painted)
    pixels = np.full((*painted.shape, 4), 255, np.uint8)
    pixels[painted, 3] = 0
    return _png(Image.fromarray(pixels, "RGBA"))


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=6)  # optimize=True costs seconds at 50 MP
    return buffer.getvalue()
