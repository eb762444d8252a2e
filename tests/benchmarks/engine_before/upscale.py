"""Upscaling: Lanczos resampling with a light unsharp mask, capped at a size that a browser,
a printer and our storage can still handle."""

import math

import cv2
import numpy as np

from orders.providers.base import ProviderError

from .enhance import unsharp_mask


def upscale(rgb: np.ndarray, *, scale: int, max_pixels: int) -> tuple[np.ndarray, float]:
    """The enlarged image and the scale actually used (lower than asked when capped)."""
    height, width = rgb.shape[:2]
    used = min(float(scale), math.sqrt(max_pixels / (width * height)))
    if used < 1.1:
        raise ProviderError(
            f"This photo is already {width} × {height}; upscaling it would exceed the "
            f"{max_pixels / 1e6:.0f} megapixel limit.",
            permanent=True,
        )
    size = (round(width * used), round(height * used))
    enlarged = cv2.resize(rgb, size, interpolation=cv2.INTER_LANCZOS4)
    return unsharp_mask(enlarged, amount=0.35, sigma=0.6 * used), used
