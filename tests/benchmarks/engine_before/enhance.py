"""Image enhancement: neutral white balance, detail in the shadows, crisp edges.

Everything stays in 8-bit with lookup tables and OpenCV kernels, so a 50 MP photo needs
about three copies of itself in memory, not a dozen float ones.
"""

import cv2
import numpy as np

from .common import downscaled


def enhance(
    rgb: np.ndarray, *, scene: str, white_balance: bool, local_contrast: bool, sharpen: bool
) -> np.ndarray:
    out = rgb
    if white_balance:
        out = balance_white(out)
    if local_contrast:
        out = lift_local_contrast(out, clip_limit=2.0 if scene == "indoor" else 1.5)
    if sharpen:
        out = unsharp_mask(out, amount=0.5, sigma=max(1.0, max(rgb.shape[:2]) / 2500))
    return out


def balance_white(rgb: np.ndarray) -> np.ndarray:
    """Remove a colour cast measured on the near-grey mid-tones only (walls, ceilings,
    concrete), so a green lawn or a blue sky does not tint the whole photo, and by at most
    8 % per channel, so a beige facade stays beige."""
    sample = downscaled(rgb, 512).reshape(-1, 3).astype(np.float32)
    brightest, darkest = sample.max(axis=1), sample.min(axis=1)
    greyish = (brightest > 50) & (brightest < 235) & (brightest - darkest < 0.2 * brightest)
    if greyish.sum() < 0.02 * len(sample):
        return rgb
    means = sample[greyish].mean(axis=0)
    gains = np.clip(means.mean() / np.maximum(means, 1), 0.92, 1.08)
    channels = [
        cv2.LUT(rgb[..., c], np.clip(np.arange(256) * gains[c], 0, 255).astype(np.uint8))
        for c in range(3)
    ]
    return np.dstack(channels)


def lift_local_contrast(rgb: np.ndarray, clip_limit: float) -> np.ndarray:
    """CLAHE on lightness only: shadows open up without shifting colours."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    clahe = cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(8, 8))
    lab[..., 0] = clahe.apply(lab[..., 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def unsharp_mask(rgb: np.ndarray, *, amount: float, sigma: float) -> np.ndarray:
    blurred = cv2.GaussianBlur(rgb, (0, 0), sigma)
    return cv2.addWeighted(rgb, 1 + amount, blurred, -amount, 0)
