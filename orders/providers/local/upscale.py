"""Upscaling: Lanczos resampling with a light unsharp mask, capped at a size that a browser,
a printer and our storage can still handle."""

import math

import cv2
import numpy as np

from ..base import ProviderError

# Below this an "enlargement" is not worth a credit: such orders are refused before charging.
MIN_SCALE = 1.1


def scale_within(width: int, height: int, scale: int, max_pixels: int) -> float:
    """The scale a photo of this size really gets: as asked, or less under the size cap."""
    return min(float(scale), math.sqrt(max_pixels / (width * height)))


def upscale(rgb: np.ndarray, *, scale: int, max_pixels: int) -> tuple[np.ndarray, float]:
    """The enlarged image and the scale actually used (lower than asked when capped)."""
    height, width = rgb.shape[:2]
    used = scale_within(width, height, scale, max_pixels)
    if used < MIN_SCALE:
        raise ProviderError(
            f"This photo is already {width} × {height}; upscaling it would exceed the "
            f"{max_pixels / 1e6:.0f} megapixel limit.",
            permanent=True,
        )
    size = (round(width * used), round(height * used))
    enlarged = cv2.resize(rgb, size, interpolation=cv2.INTER_LANCZOS4)
    return unsharp_mask(enlarged, amount=0.35, sigma=0.6 * used), used


def unsharp_mask(rgb: np.ndarray, *, amount: float, sigma: float) -> np.ndarray:
    blurred = cv2.GaussianBlur(rgb, (0, 0), sigma)
    return cv2.addWeighted(rgb, 1 + amount, blurred, -amount, 0)
