"""Image enhancement: a colour cast removed without greying warm rooms, detail brought out
without moving the photo's tones, and a light, halo-free sharpening; `strength` (0–100)
scales all three.

White balance: the light's colour is estimated on a small copy in linear light from edges
and bright surfaces (grey-edge and shades-of-grey, averaged: a wall or a lawn filling the
frame barely moves it), and only the part of it a real room or street does not have is
removed. Photos are lit warm on purpose indoors (lamps, evening sun), so indoors a warm
light up to about 3000 K is kept; any light within a small neutral zone is left alone, since
estimates are only that precise. The correction is three lookup tables in linear light.

Detail and sharpening change lightness only (CIELAB L), in bands of rows, so a 50 MP photo
needs two copies of itself and a few bands, not a dozen float copies.
"""

import cv2
import numpy as np

from .common import downscaled

BAND_ROWS = 512
# sRGB code value -> linear light, and back through a 4096-step table.
_LINEAR = np.where(
    np.arange(256) / 255 <= 0.04045,
    np.arange(256) / 255 / 12.92,
    ((np.arange(256) / 255 + 0.055) / 1.055) ** 2.4,
)
# Estimates closer than this (natural log of the red/green and blue/green ratios) to neutral
# are within the estimators' own error on real photos: not corrected.
NEUTRAL_ZONE = 0.1
# Indoors, a light this much warmer than neutral along the warm axis is the room's mood.
WARM_ALLOWANCE = 0.25
WARM_AXIS = np.array([0.55, -0.83])  # more red, less blue (log ratios to green)


def enhance(
    rgb: np.ndarray,
    *,
    scene: str,
    white_balance: bool,
    local_contrast: bool,
    sharpen: bool,
    strength: int = 60,
) -> np.ndarray:
    share = max(0, min(100, strength)) / 100
    out = rgb
    if white_balance and share > 0:
        out = balance_white(out, scene=scene, share=min(1.0, 2 * share))
    detail = (0.7 if scene == "indoor" else 0.5) * share if local_contrast else 0.0
    amount = 0.8 * share if sharpen else 0.0
    if detail or amount:
        out = refine_lightness(out, detail=detail, sharpen=amount)
    return out


def estimate_light(rgb: np.ndarray) -> np.ndarray:
    """The light's colour as natural logs of its red/green and blue/green ratios."""
    small = downscaled(rgb, 384)
    linear = _LINEAR[small]
    usable = (small.max(axis=2) < 245) & (small.max(axis=2) > 8)  # clipped and black say nothing
    estimates = [(linear[usable] ** 8).mean(axis=0) ** (1 / 8)]
    edges_usable = cv2.erode(usable.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    for sigma in (1, 2):
        blurred = cv2.GaussianBlur(linear, (0, 0), sigma)
        gradient = np.hypot(
            cv2.Sobel(blurred, cv2.CV_64F, 1, 0), cv2.Sobel(blurred, cv2.CV_64F, 0, 1)
        )[edges_usable]
        estimates.append((gradient**6).mean(axis=0) ** (1 / 6))
    logs = [np.log(np.maximum(e[[0, 2]], 1e-6) / max(e[1], 1e-6)) for e in estimates]
    return np.mean(logs, axis=0)


def balance_white(rgb: np.ndarray, *, scene: str, share: float = 1.0) -> np.ndarray:
    light = estimate_light(rgb)
    along = float(light @ WARM_AXIS)
    across = light - along * WARM_AXIS
    allowed = WARM_ALLOWANCE if scene == "indoor" and along > 0 else NEUTRAL_ZONE
    along_cast = np.sign(along) * max(0.0, abs(along) - allowed)
    norm = float(np.linalg.norm(across))
    across_cast = across * max(0.0, 1 - NEUTRAL_ZONE / norm) if norm else across
    cast = (along_cast * WARM_AXIS + across_cast) * share
    if not cast.any():
        return rgb
    gains = np.exp([-cast[0], 0.0, -cast[1]])
    gains /= 0.2126 * gains[0] + 0.7152 + 0.0722 * gains[2]  # keep the luminance
    # One three-channel table: a lookup per channel view and a stack cost five times more.
    table = np.stack([_encode(_LINEAR * gain) for gain in gains], axis=1)
    return cv2.LUT(rgb, table.reshape(256, 1, 3))


def _encode(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(linear, 0, 1)
    srgb = np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.round(srgb * 255).astype(np.uint8)


def refine_lightness(rgb: np.ndarray, *, detail: float, sharpen: float) -> np.ndarray:
    """Local contrast (lightness against an edge-aware base, so no halos at strong edges)
    and a fine unsharp mask that leaves noise-level differences alone; mean tones kept."""
    height, width = rgb.shape[:2]
    # The base at full size as 8-bit: a quarter of a float copy.
    base = cv2.resize(_lightness_base(rgb), (width, height), interpolation=cv2.INTER_LINEAR)
    sigma = max(0.8, max(height, width) / 3000)
    margin = int(4 * sigma) + 1
    boost, crisp = _lightness_steps(detail, sharpen)
    out = np.empty_like(rgb)
    for top in range(0, height, BAND_ROWS):
        bottom = min(height, top + BAND_ROWS)
        lo, hi = max(0, top - margin), min(height, bottom + margin)
        lab = cv2.cvtColor(rgb[lo:hi], cv2.COLOR_RGB2LAB)
        lightness = np.ascontiguousarray(lab[..., 0])
        # Both steps add a function of a difference of bytes: looked up, not computed.
        if detail:
            lightness = _add_step(lightness, base[lo:hi], boost)
        if sharpen:
            lightness = _add_step(lightness, cv2.GaussianBlur(lightness, (0, 0), sigma), crisp)
        lab[..., 0] = lightness
        out[top:bottom] = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)[top - lo : top - lo + bottom - top]
    return out


def _add_step(lightness: np.ndarray, reference: np.ndarray, step: np.ndarray) -> np.ndarray:
    """`lightness` plus `step` of its difference from `reference`, the difference offset by
    128 and clamped to a byte so that cv2.LUT can look it up: both steps are zero (to the
    nearest code value) beyond ±127."""
    difference = cv2.addWeighted(lightness, 1, reference, -1, 128, dtype=cv2.CV_8U)
    return cv2.add(lightness, cv2.LUT(difference, step), dtype=cv2.CV_8U)


def _lightness_steps(detail: float, sharpen: float) -> tuple[np.ndarray, np.ndarray]:
    """What local contrast adds for each difference from the base (−128…127, indexed from
    0), and what sharpening adds for each difference from the blurred lightness."""
    difference = np.arange(-128, 128, dtype=np.float64)
    # Boost mid-size differences most; big ones (edges) already have their contrast.
    boost = detail * difference * np.exp(-((difference / 40) ** 2))
    # Noise-level differences stay as they are, and halos are capped.
    crisp = sharpen * np.sign(difference) * np.clip(np.abs(difference) - 2, 0, 12)
    return np.round(boost).astype(np.int16), np.round(crisp).astype(np.int16)


def _lightness_base(rgb: np.ndarray) -> np.ndarray:
    """Lightness smoothed but for its edges, on a ≤ 1024 px copy."""
    small = downscaled(rgb, 1024)
    lightness = cv2.cvtColor(small, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    radius = max(4, max(small.shape[:2]) // 64)
    smooth = cv2.ximgproc.guidedFilter(lightness, lightness, radius, 20.0**2)
    return np.clip(smooth + 0.5, 0, 255).astype(np.uint8)
