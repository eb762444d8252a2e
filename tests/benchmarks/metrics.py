"""Image metrics for the real-photo benchmark: PSNR and SSIM inside a hole, CIEDE2000
between mean colours, IoU of masks."""

import cv2
import numpy as np


def psnr(result: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> float:
    error = np.mean((result[mask].astype(np.float64) - truth[mask].astype(np.float64)) ** 2)
    return float(10 * np.log10(255**2 / max(error, 1e-9)))


def ssim(result: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> float:
    """Mean SSIM (Wang et al. 2004, Gaussian window σ 1.5) of the luminance, over the mask."""
    a = cv2.cvtColor(result, cv2.COLOR_RGB2GRAY).astype(np.float64)
    b = cv2.cvtColor(truth, cv2.COLOR_RGB2GRAY).astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(x: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(x, (11, 11), 1.5)

    mu_a, mu_b = blur(a), blur(b)
    var_a, var_b = blur(a * a) - mu_a**2, blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    index = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
        (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    )
    return float(index[mask].mean())


def mean_lab(rgb: np.ndarray) -> np.ndarray:
    """The photo's mean colour in CIELAB (D65), averaged in linear light."""
    linear = rgb.reshape(-1, 3).astype(np.float64) / 255
    linear = np.where(linear <= 0.04045, linear / 12.92, ((linear + 0.055) / 1.055) ** 2.4)
    mean = linear.mean(axis=0)
    srgb = np.where(mean <= 0.0031308, mean * 12.92, 1.055 * mean ** (1 / 2.4) - 0.055)
    pixel = (srgb * 255).astype(np.float32).reshape(1, 1, 3) / 255
    return cv2.cvtColor(pixel, cv2.COLOR_RGB2LAB).reshape(3).astype(np.float64)


def delta_e2000(lab1: np.ndarray, lab2: np.ndarray) -> float:
    """CIEDE2000 (Sharma, Wu and Dalal 2005) between two CIELAB colours."""
    l1, a1, b1 = lab1
    l2, a2, b2 = lab2
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    c_mean = (c1 + c2) / 2
    g = 0.5 * (1 - np.sqrt(c_mean**7 / (c_mean**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dl, dc = l2 - l1, c2p - c1p
    dh = h2p - h1p
    if c1p * c2p == 0:
        dh = 0.0
    elif dh > 180:
        dh -= 360
    elif dh < -180:
        dh += 360
    dhp = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh) / 2)
    l_mean, cp_mean = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        hp_mean = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        hp_mean = (h1p + h2p) / 2
    else:
        hp_mean = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (
        1
        - 0.17 * np.cos(np.radians(hp_mean - 30))
        + 0.24 * np.cos(np.radians(2 * hp_mean))
        + 0.32 * np.cos(np.radians(3 * hp_mean + 6))
        - 0.20 * np.cos(np.radians(4 * hp_mean - 63))
    )
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / np.sqrt(20 + (l_mean - 50) ** 2)
    s_c = 1 + 0.045 * cp_mean
    s_h = 1 + 0.015 * cp_mean * t
    r_t = (
        -2
        * np.sqrt(cp_mean**7 / (cp_mean**7 + 25**7))
        * np.sin(np.radians(60 * np.exp(-(((hp_mean - 275) / 25) ** 2))))
    )
    return float(
        np.sqrt(
            (dl / s_l) ** 2 + (dc / s_c) ** 2 + (dhp / s_h) ** 2 + r_t * (dc / s_c) * (dhp / s_h)
        )
    )


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0
