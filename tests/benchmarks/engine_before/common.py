import cv2
import numpy as np


def downscaled(image: np.ndarray, longest: int) -> np.ndarray:
    """A copy whose longest side is at most `longest` (area averaging, no aliasing)."""
    height, width = image.shape[:2]
    scale = longest / max(height, width)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def feathered(mask: np.ndarray, sigma: float) -> np.ndarray:
    """A 0–1 float weight that is 1 inside the mask and fades out just beyond it."""
    grown = cv2.dilate(mask.astype(np.uint8), disc(max(1, round(sigma))))
    soft = cv2.GaussianBlur(grown.astype(np.float32), (0, 0), sigma)
    return np.maximum(soft, mask.astype(np.float32))


def disc(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
