"""Background removal: GrabCut from a frame around the subject on a small copy, then the
edge refined against the photo with a guided filter, into a soft alpha channel."""

import cv2
import numpy as np

from ..base import ProviderError
from .common import downscaled
from .dusk import find_sky

WORK_SIZE = 640
REFINE_SIZE = 2048


def remove_background(rgb: np.ndarray) -> np.ndarray:
    height, width = rgb.shape[:2]
    small = downscaled(rgb, WORK_SIZE)
    foreground = _grabcut(small)
    if foreground.mean() < 0.01:
        raise ProviderError(
            "No clear subject was found to cut out. Background removal works best on a "
            "photo of one object or building against its surroundings.",
            permanent=True,
        )
    guide = downscaled(rgb, REFINE_SIZE)
    alpha = cv2.resize(
        foreground.astype(np.float32), guide.shape[1::-1], interpolation=cv2.INTER_LINEAR
    )
    guide = guide.astype(np.float32) / 255  # eps below is on a 0–1 scale
    alpha = cv2.ximgproc.guidedFilter(guide, alpha, radius=8, eps=1e-3)
    alpha = cv2.resize(np.clip(alpha, 0, 1), (width, height), interpolation=cv2.INTER_LINEAR)
    return np.dstack([rgb, (alpha * 255 + 0.5).astype(np.uint8)])


def _grabcut(small: np.ndarray) -> np.ndarray:
    height, width = small.shape[:2]
    inset_x, inset_y = max(1, width // 25), max(1, height // 25)
    # The frame's edge is background; so is any sky, which a frame alone leaves in when the
    # subject is photographed from below.
    mask = np.full((height, width), cv2.GC_BGD, np.uint8)
    mask[inset_y : height - inset_y, inset_x : width - inset_x] = cv2.GC_PR_FGD
    mask[find_sky(small) > 0.5] = cv2.GC_BGD
    background, foreground = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    bgr = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
    cv2.setRNGSeed(0)
    # No rectangle: it starts from the mask (OpenCV's stubs want one anyway).
    cv2.grabCut(bgr, mask, None, background, foreground, 5, cv2.GC_INIT_WITH_MASK)  # type: ignore[call-overload]
    subject = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
    # Keep the subject's main parts; specks GrabCut leaves in the background go.
    count, labels, stats, _ = cv2.connectedComponentsWithStats(subject, connectivity=8)
    if count > 1:
        largest = stats[1:, cv2.CC_STAT_AREA].max()
        keep = [i for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] >= 0.05 * largest]
        subject = np.isin(labels, keep).astype(np.uint8)
    return subject
