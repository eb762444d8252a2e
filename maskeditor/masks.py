"""Masks: reading what the agent painted, and converting between providers' conventions.

Internally a mask is a boolean array at the photo's upright full size, True where the photo
is to be edited. What we store is its canonical PNG: 8-bit grey, 255 = edit, 0 = keep.
"""

import io
from typing import IO

import numpy as np
from PIL import Image, UnidentifiedImageError

MAX_MASK_BYTES = 20 * 1024 * 1024


class MaskRejected(Exception):
    """The message is for the agent."""


def read_mask(file: IO[bytes], *, size: tuple[int, int]) -> np.ndarray:
    """A PNG mask: painted pixels opaque on transparency (AI HomeDesign's convention), or
    white on black when the mask has no transparency to speak of. Raises MaskRejected."""
    file.seek(0)
    data = file.read(MAX_MASK_BYTES + 1)
    if len(data) > MAX_MASK_BYTES:
        raise MaskRejected("The mask file is larger than 20 MB; a mask PNG should be far smaller.")
    try:
        image = Image.open(io.BytesIO(data))
        if image.format != "PNG":
            raise MaskRejected(f"The mask must be a PNG image, not {image.format}.")
        if image.size != size:
            raise MaskRejected(
                f"The mask is {image.width} × {image.height} pixels but the photo is "
                f"{size[0]} × {size[1]}; it must be exactly the photo's size."
            )
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise MaskRejected("The mask is not a readable PNG image.") from None
    alpha = np.asarray(image.convert("RGBA"))[..., 3] if _has_alpha(image) else None
    if alpha is not None and alpha.min() < 255:
        painted = alpha > 0
    else:  # no transparency anywhere: white (or any light colour) on black
        painted = np.asarray(image.convert("L")) > 127
    if not painted.any():
        raise MaskRejected("The mask is empty: paint the area to edit.")
    return painted


def _has_alpha(image: Image.Image) -> bool:
    return "A" in image.getbands() or "transparency" in image.info


def check_coverage(painted: np.ndarray, *, at_most: float) -> None:
    share = painted.mean()
    if share > at_most:
        raise MaskRejected(
            f"The mask covers {share:.0%} of the photo; paint only what should change "
            f"(at most {at_most:.0%})."
        )


def to_png(painted: np.ndarray) -> bytes:
    """The canonical stored mask: 8-bit grey, 255 = edit."""
    buffer = io.BytesIO()
    Image.fromarray(painted.astype(np.uint8) * 255, "L").save(buffer, "PNG", optimize=True)
    return buffer.getvalue()
