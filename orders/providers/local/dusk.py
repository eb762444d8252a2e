"""Day to dusk: find the sky, paint a dusk gradient into it, relight the rest for evening, and
light the windows.

The sky is found on a ≤ 1024 px copy from colour, texture, gradient and position together:
smooth, sky-coloured pixels along the top edge seed a colour model of this photo's sky that
follows its gradient from zenith to horizon; smooth pixels that fit that model and connect to
the seeds are sky, and so is clear blue seen through foliage. Walls, roofs and mountains are
either textured or another colour than this sky, so a cream facade touching the top of the
frame is not painted over. The mask is refined against a 2048 px copy so branches and
rooflines keep their outline, and it never grows past what was found.

Evening light: the ground is darkened in linear light, its shadows cooled and its light tinted
by the chosen sky; window-like shapes (dark, rectangular, on a lighter facade) glow warm. The
full image is composed in bands of rows so a 50 MP photo never needs a float copy of itself.
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
WORK_SIZE = 1024
REFINE_SIZE = 2048
WINDOW_GLOW = np.array([1.0, 0.72, 0.38], np.float32)  # tungsten light through glass


def day_to_dusk(rgb: np.ndarray, *, sky_style: str, remove_shadows: bool) -> np.ndarray:
    height, width = rgb.shape[:2]
    small = downscaled(rgb, WORK_SIZE)
    sky_small = find_sky(small)
    sky = _refined(rgb, sky_small)
    windows = _full_size(find_windows(small, sky_small), width, height)
    horizon = _horizon_row(sky)
    colours = SKIES[sky_style]
    gradient = _sky_gradient(colours, horizon)
    tint = np.array(colours[2], np.float32) / 255
    out = np.empty_like(rgb)
    for top in range(0, height, BAND_ROWS):
        rows = slice(top, min(height, top + BAND_ROWS))
        ground = _evening_light(rgb[rows], tint, remove_shadows)
        glow = windows[rows][..., None] / np.float32(255)
        if glow.any():
            lit = _lit_window(rgb[rows])
            ground = glow * lit + (1 - glow) * ground
        sky_colours = gradient[np.minimum(np.arange(rows.start, rows.stop), len(gradient) - 1)]
        sky_band = np.broadcast_to(sky_colours[:, None, :], ground.shape)
        weight = sky[rows][..., None] / np.float32(255)
        out[rows] = np.clip((weight * sky_band + (1 - weight) * ground) * 255 + 0.5, 0, 255)
    return out


def find_sky(rgb: np.ndarray) -> np.ndarray:
    """A 0–1 sky weight for a small image (≤ 1024 px); zeros when there is no sky."""
    height, width = rgb.shape[:2]
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    r, g, b = (rgb[..., i].astype(np.int16) for i in range(3))
    sat, val = hsv[..., 1], hsv[..., 2]
    blue = (b > r + 12) & (b >= g) & (val > 90)
    pale = (sat < 45) & (val > 150)  # overcast, haze, clouds
    smooth = _texture(lab[..., 0]) < 3.0
    rows = np.arange(height, dtype=np.float32)[:, None] / height
    coloured = (blue | pale) & (rows < 0.85)

    # Seeds: smooth blue in the upper third, or else smooth pale pixels along the top edge.
    # A blue sky seeds its own model: pale, smooth walls along the top edge do not.
    # Distant mountains are blue too, but below the sky: the blue must reach the top tenth.
    deep_blue = blue & (rows < 0.35) & (sat > 45)
    seeds = _connected_to(deep_blue, deep_blue & (rows < 0.1)) & smooth
    blue_sky = seeds.sum() > 0.003 * height * width
    if not blue_sky:
        seeds = pale & smooth & (rows < 0.15)
        if seeds.sum() < 0.01 * height * width:
            return np.zeros((height, width), np.float32)

    fit = _sky_model(lab, seeds)
    candidate = coloured & (fit < 9.0) & (_texture(lab[..., 0]) < 6.0)
    sky = _connected_to(candidate, seeds)
    if blue_sky:
        # Clouds: pale and soft, touching the blue around them, above its lowest reach
        # (below it, pale and smooth is water or a wall).
        reach = np.nonzero(sky.mean(axis=1) > 0.02)[0]
        above = rows < (reach.max() / height if len(reach) else 0)
        clouds = (pale | (blue & (val > 160))) & (_texture(lab[..., 0]) < 10.0) & above
        sky = _connected_to(sky | clouds, sky)
        # Clear blue seen between leaves and branches: not connected, but unmistakable.
        sky |= blue & (b > r + 40) & (fit < 5.0) & smooth & (rows < 0.8)
    sky = cv2.morphologyEx(sky.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    # A pixel-wide margin stays out: the refined edge comes from the photo, not from here.
    return cv2.erode(sky, np.ones((3, 3), np.uint8)).astype(np.float32)


def _connected_to(candidate: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    _, labels = cv2.connectedComponents(candidate.astype(np.uint8), connectivity=4)
    seeded = np.unique(labels[seeds & candidate])
    return np.isin(labels, seeded[seeded > 0])


def _texture(lightness: np.ndarray) -> np.ndarray:
    """Local mean gradient of lightness (CIELAB L × 2.55 units per pixel)."""
    dx = cv2.Sobel(lightness, cv2.CV_32F, 1, 0, ksize=3) / 4
    dy = cv2.Sobel(lightness, cv2.CV_32F, 0, 1, ksize=3) / 4
    return cv2.blur(np.hypot(dx, dy), (5, 5))


def _sky_model(lab: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """How far each pixel's colour is (in standard deviations) from this photo's sky at its
    height: a sky grows paler toward the horizon, so the model is linear in the row."""
    height = lab.shape[0]
    ys, xs = np.nonzero(seeds)
    rows = ys.astype(np.float32) / height
    design = np.stack([np.ones_like(rows), rows], axis=1)
    samples = lab[ys, xs]
    coefficients, *_ = np.linalg.lstsq(design, samples, rcond=None)
    residual = samples - design @ coefficients
    spread = np.maximum(residual.std(axis=0), (6.0, 3.0, 3.0))
    # Below the seeds the gradient is extrapolated only as far as paler goes.
    every_row = np.arange(height, dtype=np.float32)[:, None] / height
    expected = coefficients[0] + np.minimum(every_row, 0.6) * coefficients[1]
    distance = (lab - expected[:, None, :]) / spread
    return np.sqrt((distance**2).sum(axis=2) / 3)


def _refined(rgb: np.ndarray, sky_small: np.ndarray) -> np.ndarray:
    """The small mask at full size (0–255), its edge following the photo (guided filter on
    a ≤ 2048 px copy), never beyond a pixel around what was found."""
    height, width = rgb.shape[:2]
    if not sky_small.any():
        return np.zeros((height, width), np.uint8)
    guide = downscaled(rgb, REFINE_SIZE)
    size = guide.shape[1::-1]
    coarse = cv2.resize(sky_small, size, interpolation=cv2.INTER_LINEAR)
    alpha = cv2.ximgproc.guidedFilter(guide.astype(np.float32) / 255, coarse, 4, 1e-3)
    allowed = cv2.dilate((coarse > 0.01).astype(np.uint8), np.ones((3, 3), np.uint8))
    alpha = np.clip((alpha - 0.5) * 2 + 0.5, 0, 1) * allowed
    return _full_size(alpha, width, height)


def _full_size(weight: np.ndarray, width: int, height: int) -> np.ndarray:
    """A 0–1 weight at the photo's size as 0–255 bytes: a quarter of a float copy."""
    small = np.clip(weight * 255 + 0.5, 0, 255).astype(np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def find_windows(rgb: np.ndarray, sky: np.ndarray) -> np.ndarray:
    """A 0–1 weight over window panes: dark, nearly rectangular, upright shapes on a lighter
    facade, away from the sky and the bottom fifth (cars, hedges, doors' shadows)."""
    height, width = rgb.shape[:2]
    lightness = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    surround = cv2.blur(lightness, (max(9, width // 12) | 1,) * 2)
    dark = ((lightness < surround - 18) & (sky < 0.5)).astype(np.uint8)
    dark[int(height * 0.8) :] = 0
    opened = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=4)
    area_min, area_max = 0.0002 * height * width, 0.01 * height * width
    shapes = []
    for i in range(1, count):
        x, y, w, h, area = stats[i]
        if not area_min <= area <= area_max or not 0.25 <= w / h <= 2.5:
            continue
        if area < 0.75 * w * h:  # foliage and shadows are ragged, panes fill their box
            continue
        if surround[y : y + h, x : x + w].mean() < 60:  # a dark shape among dark things
            continue
        shapes.append((i, x, y, w, h))
    panes = np.zeros((height, width), np.float32)
    for i, x, y, w, h in shapes:
        # Windows come in rows or columns of like panes; a lone dark patch is not one.
        alike = sum(
            1
            for j, x2, y2, w2, h2 in shapes
            if j != i
            and 0.7 < h2 / h < 1.4
            and 0.7 < w2 / w < 1.4
            and (abs(y2 - y) < h / 2 or abs(x2 - x) < w / 2)
        )
        if alike >= 2:
            panes[labels == i] = 1
    return cv2.GaussianBlur(panes, (0, 0), 1.0)


def _lit_window(band: np.ndarray) -> np.ndarray:
    """Glass lit from inside: warm light, the pane's own detail (mullions, curtains) kept."""
    luma = band.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32) / 255
    return WINDOW_GLOW * (0.75 + 0.25 * luma[..., None])


def _horizon_row(sky: np.ndarray) -> int:
    rows = np.nonzero(sky.mean(axis=1) > 0.05 * 255)[0]
    return int(rows.max()) + 1 if len(rows) else max(1, sky.shape[0] // 3)


def _sky_gradient(colours: tuple[tuple[int, int, int], ...], horizon: int) -> np.ndarray:
    """One RGB colour (0–1) per row, zenith at row 0 and the warm band at the horizon."""
    zenith, middle, low = (np.array(c, np.float32) / 255 for c in colours)
    t = np.linspace(0, 1, horizon, dtype=np.float32)[:, None]
    upper = zenith + (middle - zenith) * np.clip(t * 2, 0, 1)
    lower = middle + (low - middle) * np.clip(t * 2 - 1, 0, 1)
    return np.where(t < 0.5, upper, lower)


# sRGB code value -> linear light.
_LINEAR = np.where(
    np.arange(256) / 255 <= 0.04045,
    np.arange(256) / 255 / 12.92,
    ((np.arange(256) / 255 + 0.055) / 1.055) ** 2.4,
).astype(np.float32)


def _evening_light(band: np.ndarray, tint: np.ndarray, remove_shadows: bool) -> np.ndarray:
    """The ground two stops darker, lit by the low sky: light tinted toward the horizon's
    colour, shadows cooler; returned in sRGB, 0–1."""
    linear = _LINEAR[band]
    if remove_shadows:
        linear = linear**0.8  # open up hard shadows before the scene goes dark
    luma = linear @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    light = np.clip(luma / 0.4, 0, 1)[..., None]
    warm = 0.55 + 0.45 * tint / max(float(tint.max()), 1e-3)
    cool = np.array([0.78, 0.86, 1.0], np.float32)
    evening = linear * 0.28 * (light * warm + (1 - light) * cool)
    return np.where(evening <= 0.0031308, evening * 12.92, 1.055 * evening ** (1 / 2.4) - 0.055)
