"""What remote clients send and get back: the order's photo upright (the APIs ignore EXIF
orientation; masks are painted on the upright photo), its mask, and downloaded results."""

import io

import numpy as np
from django.conf import settings
from PIL import Image

from homedesign.projects.images import load_upright
from maskeditor.masks import read_mask

from ..models import Order
from .base import ProviderError, ResultImage, result_image
from .http import ApiClient


def upright_photo(order: Order) -> Image.Image:
    with order.photo.original.open("rb") as file:
        return load_upright(file)


def painted_mask(order: Order, size: tuple[int, int]) -> np.ndarray | None:
    """True where the agent painted, or None when the order has no mask."""
    if not order.mask:
        return None
    with order.mask.file.open("rb") as file:
        return read_mask(file, size=size)


def required_mask(order: Order, size: tuple[int, int]) -> np.ndarray:
    """The painted mask of a service that cannot work without one."""
    painted = painted_mask(order, size)
    if painted is None:
        raise ProviderError(
            "This edit needs a painted area.", permanent=True, detail="order has no mask"
        )
    return painted


def as_jpeg(image: Image.Image) -> bytes:
    """For APIs that take JPEG or PNG (ours may be HEIC or WebP): pixels only, no comment
    or EXIF, which may hold the home's address or position."""
    buffer = io.BytesIO()
    _pixels_only(image).save(buffer, "JPEG", quality=95, subsampling=0)
    return buffer.getvalue()


def as_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    _pixels_only(image).save(buffer, "PNG", compress_level=3)
    return buffer.getvalue()


def _pixels_only(image: Image.Image) -> Image.Image:
    clean = image.convert("RGB")
    clean.info = {}
    return clean


def downloaded_result(api: ApiClient, url: str, *, keep_alpha: bool = False) -> ResultImage:
    """A result fetched into our storage (never hot-linked): size-limited, checked."""
    data = api.download_image(url, max_bytes=settings.RESULT_MAX_BYTES)
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        wanted = "RGBA" if keep_alpha and "A" in image.getbands() else "RGB"
        return result_image(np.asarray(image.convert(wanted)))


def same_size_or_fail(label: str, image: Image.Image, size: tuple[int, int]) -> None:
    if image.size != size:
        raise ProviderError(
            f"{label} returned an image of another size.",
            permanent=True,
            detail=f"{image.size} for a {size} photo",
        )
