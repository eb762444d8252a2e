"""Day to dusk: find the sky, paint a dusk gradient into it, and relight the rest for
evening: darker, warmer, with lit windows glowing.

The sky is found on a ≤ 1024 px copy (blue or bright, unsaturated pixels connected to the
top edge) and its soft mask scaled up. The full image is composed in bands of rows so a
50 MP photo never needs a float copy of itself.
"""

import cv2
import numpy as np

from .common import downscaled

# Sky colours from the zenith to the horizon, per style (RGB).
SKIES = {
    "golden_hour": ((38, 52, 110), (148, 92, 120), (250, 168, 92)),
    "blue_hour": ((14, 28, 78), (42, 70, 140), (120, 130, 180)),
    "pink_sunset": ((40, 40, 105), (170, 90, 140), (252, 150, 130)),
    "deep_twilight": ((8, 12, 40), (30, 36, 90), (150, 96, 110)),
}
BAND_ROWS = 512


def day_to_dusk(rgb: np.ndarray, *, sky_style: str, remove_shadows: bool) -> np.ndarray:
    height, width = rgb.shape[:2]
    sky = cv2.resize(
        find_sky(downscaled(rgb, 1024)), (width, height), interpolation=cv2.INTER_LINEAR
    )
    horizon = _horizon_row(sky)
    gradient = _sky_gradient(SKIES[sky_style], horizon)
    out = np.empty_like(rgb)
    for top in range(0, height, BAND_ROWS):
        rows = slice(top, min(height, top + BAND_ROWS))
        ground = _evening_light(rgb[rows].astype(np.float32) / 255, remove_shadows)
        colours = gradient[np.minimum(np.arange(rows.start, rows.stop), len(gradient) - 1)]
        sky_band = np.broadcast_to(colours[:, None, :], ground.shape)
        weight = sky[rows][..., None]
        out[rows] = np.clip((weight * sky_band + (1 - weight) * ground) * 255, 0, 255)
    return out


def find_sky(rgb: np.ndarray) -> np.ndarray:
    """A 0–1 sky weight for a small image."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    blue = (hue >= 85) & (hue <= 135) & (sat > 25) & (val > 90)
    overcast = (sat < 40) & (val > 180)
    candidate = (blue | overcast).astype(np.uint8)
    candidate[int(candidate.shape[0] * 0.8) :] = 0  # sky is not at the bottom of a photo
    _, labels = cv2.connectedComponents(candidate, connectivity=4)
    touching_top = set(np.unique(labels[0])) - {0}
    sky = np.isin(labels, list(touching_top)).astype(np.uint8)
    sky = cv2.morphologyEx(sky, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    return cv2.GaussianBlur(sky.astype(np.float32), (0, 0), 1.5)


def _horizon_row(sky: np.ndarray) -> int:
    rows = np.nonzero(sky.mean(axis=1) > 0.05)[0]
    return int(rows.max()) + 1 if len(rows) else max(1, sky.shape[0] // 3)


def _sky_gradient(colours, horizon: int) -> np.ndarray:
    """One RGB colour (0–1) per row, zenith at row 0 and the warm band at the horizon."""
    zenith, middle, low = (np.array(c, np.float32) / 255 for c in colours)
    t = np.linspace(0, 1, horizon, dtype=np.float32)[:, None]
    upper = zenith + (middle - zenith) * np.clip(t * 2, 0, 1)
    lower = middle + (low - middle) * np.clip(t * 2 - 1, 0, 1)
    return np.where(t < 0.5, upper, lower)


def _evening_light(band: np.ndarray, remove_shadows: bool) -> np.ndarray:
    luma = band @ np.array([0.299, 0.587, 0.114], np.float32)
    if remove_shadows:
        band = band**0.85  # open up hard shadows before the scene goes dark
    evening = band * np.array([0.62, 0.55, 0.58], np.float32)
    # Bright, warm-ish pixels away from the sky read as lit windows and lamps: make them glow.
    glow = np.clip((luma - 0.72) / 0.28, 0, 1)[..., None]
    return evening + glow * np.array([0.55, 0.38, 0.12], np.float32)
