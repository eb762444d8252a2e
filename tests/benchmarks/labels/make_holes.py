"""How the removal holes in photos.json were made (run it to remake them).

Three object silhouettes an agent would paint over (a standing person, a bin, a sofa), with a
painted margin, placed by hand on each photo where such an object could stand and where the
fill is hard: across edges, on lines and textures. Coordinates are 0–1 of width and height.
"""

import json
import math

from PIL import Image

from tests.benchmarks.photos import HERE, catalogue, fetch


def person() -> list[tuple[float, float]]:
    head = [(0.5 + 0.17 * math.cos(a), 0.11 + 0.1 * math.sin(a)) for a in _angles(14, 0.5)]
    body = [
        (0.88, 0.24),
        (1.0, 0.55),
        (0.82, 0.6),
        (0.78, 1.0),
        (0.22, 1.0),
        (0.18, 0.6),
        (0.0, 0.55),
        (0.12, 0.24),
    ]
    return [*head[:8], *body, *head[8:]]


def bin_() -> list[tuple[float, float]]:
    lid = [(0.5 + 0.5 * math.cos(a), 0.12 + 0.12 * math.sin(a)) for a in _angles(10, 1.0)]
    return [*lid, (0.9, 1.0), (0.1, 1.0)]


def sofa() -> list[tuple[float, float]]:
    return [
        (0.0, 0.25),
        (0.08, 0.0),
        (0.92, 0.0),
        (1.0, 0.25),
        (1.0, 0.85),
        (0.95, 1.0),
        (0.05, 1.0),
        (0.0, 0.85),
    ]


def _angles(count: int, start: float) -> list[float]:
    """Angles around the top half of a circle, from the left, through the top, to the right."""
    return [math.pi * (1 + i / (count - 1)) * start + (1 - start) * math.pi for i in range(count)]


SHAPES = {"person": (person, 0.42), "bin": (bin_, 0.65), "sofa": (sofa, 2.2)}

# photo: (shape, centre x, centre y, height), all 0–1 of the photo.
PLACES = {
    "building": [
        ("person", 0.35, 0.82, 0.25),
        ("bin", 0.62, 0.88, 0.18),
        ("sofa", 0.8, 0.45, 0.14),
    ],
    "home": [("person", 0.3, 0.4, 0.25), ("sofa", 0.75, 0.85, 0.12), ("bin", 0.55, 0.6, 0.18)],
    "leuven": [("person", 0.35, 0.8, 0.3), ("bin", 0.15, 0.65, 0.2), ("sofa", 0.7, 0.85, 0.12)],
    "china": [("person", 0.6, 0.75, 0.25), ("sofa", 0.75, 0.5, 0.1), ("bin", 0.35, 0.55, 0.2)],
    "aitzgorri": [("person", 0.3, 0.8, 0.25), ("bin", 0.6, 0.4, 0.2), ("sofa", 0.8, 0.75, 0.12)],
    "picos": [("person", 0.5, 0.65, 0.22), ("bin", 0.25, 0.85, 0.2), ("sofa", 0.75, 0.55, 0.1)],
    "hills": [("person", 0.55, 0.75, 0.25), ("bin", 0.2, 0.6, 0.18), ("sofa", 0.75, 0.9, 0.1)],
    "dragonfly": [("person", 0.3, 0.5, 0.3), ("bin", 0.75, 0.7, 0.2), ("sofa", 0.5, 0.9, 0.1)],
    "boats": [("person", 0.5, 0.85, 0.25), ("bin", 0.4, 0.6, 0.18), ("sofa", 0.7, 0.4, 0.1)],
    "wine": [("person", 0.25, 0.35, 0.2), ("bin", 0.8, 0.65, 0.15), ("sofa", 0.5, 0.88, 0.08)],
    "table": [("bin", 0.3, 0.7, 0.2), ("sofa", 0.7, 0.3, 0.12), ("person", 0.55, 0.62, 0.25)],
    "brushes": [("bin", 0.4, 0.5, 0.25), ("sofa", 0.75, 0.8, 0.1), ("person", 0.2, 0.3, 0.25)],
    "concrete": [("bin", 0.15, 0.7, 0.2), ("sofa", 0.85, 0.2, 0.1), ("person", 0.6, 0.55, 0.25)],
    "stream": [("person", 0.45, 0.7, 0.25), ("bin", 0.8, 0.5, 0.2), ("sofa", 0.25, 0.35, 0.1)],
    "wood": [("person", 0.3, 0.5, 0.25), ("bin", 0.7, 0.7, 0.2), ("sofa", 0.6, 0.25, 0.1)],
    "window-dog": [
        ("person", 0.3, 0.85, 0.15),
        ("bin", 0.8, 0.35, 0.15),
        ("sofa", 0.75, 0.7, 0.08),
    ],
}


def main() -> None:
    path = HERE / "photos.json"
    data = json.loads(path.read_text())
    for photo in data["photos"]:
        entry = next(p for p in catalogue() if p.name == photo["name"])
        width, height = Image.open(fetch(entry)).size
        holes = []
        for shape, cx, cy, size in PLACES[photo["name"]]:
            outline, aspect = SHAPES[shape]
            w = size * aspect * height / width
            holes.append(
                [
                    [round(cx + (x - 0.5) * w, 4), round(cy + (y - 0.5) * size, 4)]
                    for x, y in outline()
                ]
            )
        photo["holes"] = holes
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
