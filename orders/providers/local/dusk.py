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
    ground_light = _ground_light(tint, remove_shadows)
    out = np.empty_like(rgb)
    for top in range(0, height, BAND_ROWS):
        rows = slice(top, min(height, top + BAND_ROWS))
        band = out[rows]
        band[:] = _evening_light(rgb[rows], *ground_light)
        glow = windows[rows]
        if glow.any():
            # Only the box around the band's windows: they are a small part of any band.
            ys, xs = np.nonzero(glow.max(axis=1)), np.nonzero(glow.max(axis=0))
            box = slice(ys[0][0], ys[0][-1] + 1), slice(xs[0][0], xs[0][-1] + 1)
            _blend(band[box], _lit_window(rgb[rows][box]), glow[box])
        weight = sky[rows]
        if weight.any():
            shades = gradient[np.minimum(np.arange(rows.start, rows.stop), len(gradient) - 1)]
            sky_band = np.repeat((shades * 255 + 0.5).astype(np.uint8)[:, None], width, axis=1)
            _blend(band, sky_band, weight)
    return out


def _blend(band: np.ndarray, over: np.ndarray, weight: np.ndarray) -> None:
    """`over` laid on `band` in place with a 0–255 weight, in bytes: float copies of whole
    bands made compositing the slowest part of the job."""
    share = weight.astype(np.float32) / 255
    band[:] = cv2.blendLinear(over, band, share, 1 - share)


def find_sky(rgb: np.ndarray) -> np.ndarray:
    """A 0–1 sky weight for a small image (≤ 1024 px); zeros when there is no sky."""
    height, width = rgb.shape[:2]
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    r, g, b = (rgb[..., i].astype(np.int16) for i in range(3))
    sat, val = hsv[..., 1], hsv[..., 2]
    blue = (b > r + 12) & (b >= g) & (val > 90)
    pale = (sat < 45) & (val > 150)  # overcast, haze, clouds
    texture = _texture(lab[..., 0])
    smooth = texture < 3.0
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
    # No smoother than this photo's own sky allows: haze over a distant shore or a city has
    # the sky's colour, but three times the texture of the sky seen above it.
    limit = min(6.0, max(2.0, 3 * float(np.percentile(texture[seeds], 90))))
    candidate = coloured & (fit < 9.0) & (texture < limit)
    sky = _connected_to(candidate, seeds)
    if blue_sky:
        # Clouds: pale and soft, touching the blue around them, above its lowest reach
        # (below it, pale and smooth is water or a wall).
        reach = np.nonzero(sky.mean(axis=1) > 0.02)[0]
        above = rows < (reach.max() / height if len(reach) else 0)
        clouds = (pale | (blue & (val > 160))) & (texture < 10.0) & above
        sky = _connected_to(sky | clouds, sky)
        # Clear blue seen between leaves and branches: not connected, but unmistakable.
        sky |= blue & (b > r + 40) & (fit < 5.0) & smooth & (rows < 0.8)
    # Texture is measured over 5 × 5 pixels, so it keeps the sky a few pixels short of a
    # roof or a branch: up to there, what has this sky's own colour is sky too.
    near = cv2.dilate(sky.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    sky |= near & coloured & (fit < 3.0)
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
    # Filtered only down to the sky's lowest reach (and the filter's radius past it): the
    # rows below are not sky whatever the filter says, and are most of most photos.
    rows = np.nonzero(coarse.max(axis=1) > 0)[0]
    bottom = min(len(coarse), int(rows.max()) + 1 + 16)
    alpha = np.zeros_like(coarse)
    alpha[:bottom] = cv2.ximgproc.guidedFilter(
        guide[:bottom].astype(np.float32) / 255, coarse[:bottom], 4, 1e-3
    )
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
    luma = cv2.cvtColor(band, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255
    return (WINDOW_GLOW * (0.75 + 0.25 * luma[..., None]) * 255 + 0.5).astype(np.uint8)


def _horizon_row(sky: np.ndarray) -> int:
    # Row means in OpenCV: numpy's would add up a 50 MP mask in float64.
    means = cv2.reduce(sky, 1, cv2.REDUCE_AVG, dtype=cv2.CV_32F).ravel()
    rows = np.nonzero(means > 0.05 * 255)[0]
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
# Linear light (0–1 in 65536 steps) -> sRGB code value: finer than a code value even in
# the darkest shadows, and a lookup instead of a power per pixel.
_ENCODE_STEPS = 65535
_ENCODE = np.round(
    255
    * np.where(
        (steps := np.arange(_ENCODE_STEPS + 1) / _ENCODE_STEPS) <= 0.0031308,
        steps * 12.92,
        1.055 * steps ** (1 / 2.4) - 0.055,
    )
).astype(np.uint8)
EVENING = 0.28  # a little under two stops
COOL = np.array([0.78, 0.86, 1.0], np.float32)  # shadows lit by the blue sky alone


def _ground_light(tint: np.ndarray, remove_shadows: bool) -> tuple[np.ndarray, np.ndarray]:
    """The constants of `_evening_light`: the code value -> linear table (shadows opened up
    first when asked) and the light's colour, in shadow and in full light, as a matrix."""
    # Open up hard shadows before the scene goes dark: a power per code value, not per pixel.
    table = _LINEAR**0.8 if remove_shadows else _LINEAR
    warm = 0.55 + 0.45 * tint / max(float(tint.max()), 1e-3)
    # colour = light × (warm − cool) + cool, per channel, for cv2.transform
    light_colour = EVENING * np.stack([warm - COOL, COOL], axis=1)
    return table.astype(np.float32), light_colour.astype(np.float32)


def _evening_light(band: np.ndarray, table: np.ndarray, light_colour: np.ndarray) -> np.ndarray:
    """The ground about two stops darker, lit by the low sky: light tinted toward the
    horizon's colour, shadows cooler; returned as sRGB bytes. OpenCV calls and lookups
    throughout: a per-pixel power or a float temporary per step made this most of the job."""
    linear = cv2.LUT(band, table)
    luma = cv2.transform(linear, np.array([[0.2126, 0.7152, 0.0722]], np.float32))
    light = np.clip(luma * (1 / 0.4), 0, 1, out=luma)
    colour = cv2.transform(light[..., None], light_colour)
    # Straight to 16-bit table indices: a float result and its conversion cost as much again.
    evening = cv2.multiply(linear, colour, scale=_ENCODE_STEPS, dtype=cv2.CV_16U)
    return np.take(_ENCODE, np.asarray(evening, np.uint16))
