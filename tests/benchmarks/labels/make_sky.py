"""How the sky masks in this folder were made (run it to remake them).

By hand, per photo: a polygon drawn around where sky can be at all (above the rooflines,
ridges and tree tops, looked up on a 10 % grid), and inside it a colour rule chosen for that
photo's sky (blue, or bright and grey for overcast and haze, clouds included). Branches, birds
and leaves darker than the rule stay out. Each mask was then checked by eye as an overlay.
These rules are per photo and never read by the engine.
"""

import cv2
import numpy as np

from tests.benchmarks.photos import HERE, catalogue


def rule(rgb: np.ndarray, name: str) -> np.ndarray:
    r, g, b = (rgb[..., i].astype(int) for i in range(3))
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    sat, val = hsv[..., 1].astype(int), hsv[..., 2].astype(int)
    match name:
        case "building":
            return (b > r + 15) & (b > 110)
        case "home":
            return (b > r + 12) & (val > 90)
        case "leuven":
            return (sat < 45) & (val > 140)
        case "china":
            return (sat < 70) & (val > 175) & (b >= r)
        case "aitzgorri":
            # Clouds well above the ridge are darker than the ones touching it.
            return ((val > 205) & (sat < 40)) | ((val > 140) & (sat < 50) & _inside(UPPER, rgb))
        case "picos":
            # Blue sky reaches down between the spires; snow there is white, not blue.
            blue = (b > r + 30) & (val > 90)
            return blue | ((val > 215) & (sat < 40) & ~_inside(SNOWY, rgb))
        case "hills":
            return ((b > r + 30) & (val > 90)) | ((val > 200) & (sat < 50))
        case "dragonfly":
            return (b > r + 45) & (b > g + 15) & (val > 110)
    raise KeyError(name)


REGIONS = {
    "building": [(0, 0), (0.56, 0), (0.18, 0.22), (0.18, 0.62), (0, 0.62)],
    "home": [(0, 0), (1, 0), (1, 1), (0, 1)],
    "leuven": [
        (0, 0),
        (1, 0),
        (1, 0.45),
        (0.38, 0.45),
        (0.345, 0.54),
        (0.29, 0.54),
        (0.29, 0.45),
        (0, 0.45),
    ],
    "china": [(0, 0), (1, 0), (1, 0.47), (0, 0.47)],
    "aitzgorri": [(0, 0), (1, 0), (1, 0.32), (0, 0.32)],
    "picos": [
        (0, 0),
        (1, 0),
        (1, 0.22),
        (0.93, 0.23),
        (0.8, 0.28),
        (0.7, 0.3),
        (0.62, 0.23),
        (0.48, 0.23),
        (0.43, 0.38),
        (0.36, 0.46),
        (0.3, 0.44),
        (0.2, 0.36),
        (0.08, 0.28),
        (0, 0.22),
    ],
    "hills": [(0, 0), (1, 0), (1, 0.66), (0, 0.66)],
    "dragonfly": [(0, 0), (1, 0), (1, 1), (0, 1)],
}


UPPER = [
    (0, 0),
    (1, 0),
    (1, 0.17),
    (0.9, 0.16),
    (0.8, 0.12),
    (0.6, 0.11),
    (0.5, 0.1),
    (0.3, 0.13),
    (0.1, 0.17),
    (0, 0.18),
]
# Where snow touches the ridge in "picos".
SNOWY = [(0.62, 0.14), (1, 0.1), (1, 0.3), (0.62, 0.3)]


def _inside(polygon: list, rgb: np.ndarray) -> np.ndarray:
    height, width = rgb.shape[:2]
    region = np.zeros((height, width), np.uint8)
    cv2.fillPoly(region, [np.round(np.array(polygon) * (width, height)).astype(np.int32)], 1)
    return region > 0


def main() -> None:
    for photo in catalogue():
        if not photo.sky:
            continue
        rgb = photo.load()
        height, width = rgb.shape[:2]
        region = np.zeros((height, width), np.uint8)
        points = np.round(np.array(REGIONS[photo.name]) * (width, height)).astype(np.int32)
        cv2.fillPoly(region, [points], 1)
        sky = rule(rgb, photo.name) & (region > 0)
        # Specks of a few pixels (JPEG noise at a rule's threshold) are not labelled.
        sky = cv2.morphologyEx(sky.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
        cv2.imwrite(str(HERE / "labels" / photo.sky), sky * 255, [cv2.IMWRITE_PNG_BILEVEL, 1])
        print(f"{photo.name:10} sky {sky.mean() * 100:5.1f} %")


if __name__ == "__main__":
    main()
