"""Masks: reading what the agent painted, and (later) converting between providers'
conventions. Internally a mask is a boolean array, True where the photo is to be edited,
at the photo's upright full size."""

import io
from typing import IO

import numpy as np
from PIL import Image, UnidentifiedImageError

MAX_MASK_BYTES = 20 * 1024 * 1024


class MaskRejected(Exception):
    """The message is for the agent."""


def read_mask(file: IO[bytes], *, size: tuple[int, int]) -> np.ndarray:
    """A PNG mask: painted pixels are opaque on transparency (alpha > 0), or white on
    black for masks without transparency. Raises MaskRejected."""
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
    if "A" in image.getbands() or "transparency" in image.info:
        painted = np.asarray(image.convert("RGBA"))[..., 3] > 0
    else:
        painted = np.asarray(image.convert("L")) > 127
    if not painted.any():
        raise MaskRejected("The mask is empty: paint the area to edit.")
    return painted
