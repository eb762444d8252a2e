"""The local engine: real image processing on this machine's CPU, no API key, no download.

It serves what OpenCV and PatchMatch do honestly; staging, redesign, automatic item
detection and exterior creation need a generative model, so a remote provider serves them.
"""

from functools import cache

import numpy as np
from django.conf import settings

from homedesign.projects.images import load_upright
from homedesign.projects.models import Photo
from maskeditor.masks import MaskRejected, read_mask

from ...catalog import SCALES, Service
from ...models import Order
from ..base import Offer, Outcome, Provider, ProviderError, Report, result_image
from .background import remove_background
from .dusk import day_to_dusk
from .enhance import enhance
from .inpaint import remove_painted
from .model import InpaintModel, load_model
from .upscale import MIN_SCALE, scale_within, upscale

# Service -> (seconds per megapixel processed, fixed seconds) on two shared cores, from
# `make bench` (12 and 50 MP jobs, median of three, about a quarter added for a busy
# machine). Removal runs PatchMatch on a crop capped at 640 px, so its time hardly grows
# with the photo; upscaling is counted per megapixel of the result.
SPEED = {
    "image_enhancement": (0.07, 0.5),
    "day_to_dusk": (0.09, 0.5),
    "item_removal_mask": (0.02, 3.5),
    "declutter": (0.02, 3.5),
    "background_removal": (0.1, 2),
    "upscale": (0.02, 0.5),
}
# Decoding the photo and encoding the result, per megapixel of each.
DECODE_SECONDS = 0.015
ENCODE_SECONDS = 0.03


class LocalProvider(Provider):
    name = "local"
    label = "Local engine"

    def refuses(self, order: Order) -> str | None:
        if order.service == "declutter" and not order.mask:
            return "automatic decluttering needs a remote provider; paint the clutter instead"
        if order.service == "upscale":
            photo = order.photo
            if scale_within(photo.width, photo.height, 2, settings.UPSCALE_MAX_PIXELS) < MIN_SCALE:
                limit = settings.UPSCALE_MAX_PIXELS // 1_000_000
                return f"this photo is already as large as the local upscaler goes ({limit} MP)"
        return None

    def offer(self, service: Service, photo: Photo) -> Offer:
        if service.key == "declutter":
            # This engine only removes what is painted: the form starts there.
            return Offer(
                initial={"auto": False},
                notes=(
                    "Paint the clutter to remove: finding it automatically needs a "
                    "remote provider, which this installation does not have.",
                ),
            )
        if service.key == "upscale":
            note = self._upscale_note(photo)
            return Offer(notes=(note,) if note else ())
        return Offer()

    def _upscale_note(self, photo: Photo) -> str:
        limit = settings.UPSCALE_MAX_PIXELS
        real = {
            value: scale_within(photo.width, photo.height, int(value), limit) for value, _ in SCALES
        }
        if max(real.values()) < MIN_SCALE:
            return (
                f"This photo ({photo.width} × {photo.height}) is already at the "
                f"{limit // 1_000_000} MP limit: it cannot be enlarged here."
            )
        capped = [
            f"{value}× becomes {used:.1f}×" for value, used in real.items() if used < int(value)
        ]
        if not capped:
            return ""
        return (
            f"This photo is {photo.width} × {photo.height}: the largest result here is "
            f"{limit // 1_000_000} MP, so " + " and ".join(capped) + ". The price is "
            "the same."
        )

    def submit(self, order: Order, report: Report) -> Outcome:
        estimate = self.estimate_seconds(order)
        report(5, estimate)
        with order.photo.original.open("rb") as file:
            rgb = np.asarray(load_upright(file))
        report(20, round(estimate * 0.8))
        out, note = self._process(order, rgb)
        report(85, 1)
        return Outcome(images=[result_image(out)], note=note)

    def estimate_seconds(self, order: Order) -> int:
        """Rough, from `make bench` on 2 cores: decoding, processing and encoding."""
        per_megapixel, fixed = SPEED.get(order.service, (0.3, 2))
        photo = order.photo
        result = photo.megapixels
        if order.service == "upscale":
            asked = int(order.options.get("scale", 2))
            used = scale_within(photo.width, photo.height, asked, settings.UPSCALE_MAX_PIXELS)
            result *= used**2
        processed = result if order.service == "upscale" else photo.megapixels
        return round(
            fixed
            + per_megapixel * processed
            + DECODE_SECONDS * photo.megapixels
            + ENCODE_SECONDS * result
        )

    def _process(self, order: Order, rgb: np.ndarray) -> tuple[np.ndarray, str]:
        """The processed image, and a note for the agent when it differs from the order."""
        options = order.options
        match order.service:
            case "image_enhancement":
                return enhance(
                    rgb,
                    scene=options["scene"],
                    white_balance=options["white_balance"],
                    local_contrast=options["local_contrast"],
                    sharpen=options["sharpen"],
                    # Orders placed before the option existed had today's default strength.
                    strength=options.get("strength", 60),
                ), ""
            case "day_to_dusk":
                return day_to_dusk(
                    rgb, sky_style=options["sky_style"], remove_shadows=options["remove_shadows"]
                ), ""
            case "item_removal_mask" | "declutter":
                return remove_painted(rgb, self._mask(order, rgb), installed_model()), ""
            case "background_removal":
                return remove_background(rgb), ""
            case "upscale":
                asked = int(options["scale"])
                enlarged, used = upscale(rgb, scale=asked, max_pixels=settings.UPSCALE_MAX_PIXELS)
                if used < asked:
                    limit = settings.UPSCALE_MAX_PIXELS // 1_000_000
                    return enlarged, (
                        f"Enlarged {used:.1f}× rather than {asked}×: {asked}× would have gone "
                        f"past the {limit} megapixel limit."
                    )
                return enlarged, ""
        raise ProviderError(
            "The local engine cannot do this edit.", permanent=True, detail=order.service
        )

    def _mask(self, order: Order, rgb: np.ndarray) -> np.ndarray:
        if order.mask is None:
            raise ProviderError(
                "This edit needs a painted area.", permanent=True, detail="order has no mask"
            )
        try:
            with order.mask.file.open("rb") as file:
                return read_mask(file, size=(rgb.shape[1], rgb.shape[0]))
        except MaskRejected as rejected:
            raise ProviderError(str(rejected), permanent=True) from None


def installed_model() -> InpaintModel | None:
    """The operator's inpainting model (INPAINT_MODEL_PATH), loaded once per worker."""
    if not settings.INPAINT_MODEL_PATH:
        return None
    return _loaded(settings.INPAINT_MODEL_PATH, settings.INPAINT_MODEL_SHA256)


@cache
def _loaded(path: str, sha256: str) -> InpaintModel:
    return load_model(path, sha256)
