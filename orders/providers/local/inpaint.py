"""Removing what the agent painted.

Furniture-size holes, on a crop around each painted area (at most 640 px, scaled back):
PatchMatch with 13 px patches copies real texture and carries lines across the hole, and
diffusion (TELEA) carries the shading and colour gradients in from its edge; the fill is
their blend, 60/40. On 16 real photos (3 object-shaped holes each) each alone is beaten on
about half the photos by the other; the blend beats the better of them on most, and its
edge meets the photo without the seams PatchMatch alone leaves. Thin strokes (wires, cracks,
small signs) are diffusion only, where it is sharper. An installed model replaces both.
"""

import math

import cv2
import numpy as np
import patchmatch

from .common import disc, feathered
from .model import InpaintModel

# PatchMatch's time grows with the crop's pixels times the patch's: 13 px patches on a
# 640 px crop take what 7 px patches on a 1024 px crop took before them (the old engine's
# time for a 12 MP job). The bench's photos (≤ 1024 px) have smaller crops than this, so
# it measures the patch size but not this cap: above it, the fill is resampled.
WORK_SIZE = 640
# 13 × 13 patches: lines and bricks survive (7 made them wavy). On the bench's 16 photos,
# median margin over the best classical method per photo: 9, +0.06 dB; 11, −0.02 dB;
# 13, +0.14 dB; 15, +0.17 dB at a third more time.
PATCH_RADIUS = 6
TEXTURE_SHARE = 0.6


def remove_painted(
    rgb: np.ndarray, mask: np.ndarray, model: InpaintModel | None = None
) -> np.ndarray:
    """Fill `mask` (bool, same height and width) with plausible surroundings, by `model` on a
    crop around each painted area when the operator installed one."""
    height, width = mask.shape
    # An object's anti-aliased edge can escape the paint on a large photo: grow the hole by
    # 0.05 % of the photo's size (2 px at 12 MP). More costs detail: on the benchmark's
    # photos, growing by 0.25 % cost 0.4 dB against the best baseline on the median photo.
    margin = round(max(height, width) / 2000)
    painted = mask.astype(np.uint8)
    if model is None and is_thin(painted):
        hole = cv2.dilate(painted, disc(margin)) if margin else painted
        return cv2.inpaint(rgb, hole * 255, 5, cv2.INPAINT_TELEA)

    out = rgb.copy()
    # Grown crop by crop: a 50 MP photo needs no full-size copy of its mask but this one.
    for top, left, bottom, right in _regions(painted, margin):
        crop = out[top:bottom, left:right]
        crop_paint = painted[top:bottom, left:right]
        crop_hole = (cv2.dilate(crop_paint, disc(margin)) if margin else crop_paint) > 0
        filled = model.fill(crop, crop_hole) if model else _patchmatch_fill(crop, crop_hole)
        # Blended where the fill shows only: float copies of a whole crop would be most of
        # a 50 MP job's memory.
        weight = feathered(crop_hole, sigma=1.5)
        shows = weight > 0
        share = weight[shows][:, None]
        crop[shows] = (share * filled[shows] + (1 - share) * crop[shows] + 0.5).astype(np.uint8)
    return out


def is_thin(hole: np.ndarray) -> bool:
    """Strokes a 9-px disc cannot fit in: nothing there for PatchMatch to match."""
    core = cv2.erode(hole.astype(np.uint8), disc(4))
    return core.sum() < 0.05 * hole.sum()


def _regions(painted: np.ndarray, margin: int = 0) -> list[tuple[int, int, int, int]]:
    """One box per painted area, with as much context again around it, merged on overlap.
    Areas are found on a ≤ 2048 px copy (labels of a 50 MP mask would take 200 MB)."""
    height, width = painted.shape
    scale = min(1.0, 2048 / max(height, width))
    small = (
        cv2.resize(
            painted, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA
        )
        > 0
        if scale < 1
        else painted
    ).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(small, connectivity=8)
    slack = margin + (math.ceil(1 / scale) if scale < 1 else 0)
    boxes = []
    for sx, sy, sw, sh, _area in stats[1:count]:
        x, y = int(sx / scale) - slack, int(sy / scale) - slack
        w, h = math.ceil(sw / scale) + 2 * slack, math.ceil(sh / scale) + 2 * slack
        pad = max(w, h) // 2 + 16
        boxes.append(
            (max(0, y - pad), max(0, x - pad), min(height, y + h + pad), min(width, x + w + pad))
        )
    merged: list[tuple[int, int, int, int]] = []
    for box in sorted(boxes):
        for i, other in enumerate(merged):
            if box[0] < other[2] and other[0] < box[2] and box[1] < other[3] and other[1] < box[3]:
                merged[i] = (
                    min(box[0], other[0]),
                    min(box[1], other[1]),
                    max(box[2], other[2]),
                    max(box[3], other[3]),
                )
                break
        else:
            merged.append(box)
    return merged


def _patchmatch_fill(crop: np.ndarray, hole: np.ndarray) -> np.ndarray:
    height, width = hole.shape
    scale = min(1.0, WORK_SIZE / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA) if scale < 1 else crop
    small_hole = (
        cv2.resize(hole.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
        if scale < 1
        else hole.astype(np.uint8)
    )
    # Growing the reduced hole by a pixel keeps resampled edge colours out of the source.
    small_hole = cv2.dilate(small_hole, disc(1))
    small = np.ascontiguousarray(small)
    texture = patchmatch.inpaint(small, small_hole * 255, patch_size=PATCH_RADIUS)
    shading = cv2.inpaint(small, small_hole * 255, 5, cv2.INPAINT_TELEA)
    filled = cv2.addWeighted(texture, TEXTURE_SHARE, shading, 1 - TEXTURE_SHARE, 0)
    if scale < 1:
        filled = cv2.resize(filled, (width, height), interpolation=cv2.INTER_CUBIC)
    return filled
