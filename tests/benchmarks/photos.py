"""The real photographs `make bench` measures the local engine on.

No photo is committed: each one is fetched at bench time from the Debian package that ships
it (`apt-get download`, then the one file taken out of the .deb) into `data/bench-photos/`.
`photos.json` beside this file records, per photo, the package, the version measured, the
path inside the package and the licence from the package's debian/copyright, plus the labels
made for the metrics (sky masks under `labels/`, object-shaped holes, lit-window boxes).

Photos are measured at `WORK_SIZE` px on their longest side so the whole set runs in minutes
on two cores; time and memory at 12 and 50 MP are measured separately on an enlarged copy.
"""

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CACHE = ROOT / "data" / "bench-photos"
WORK_SIZE = 1024


@dataclass
class Photo:
    name: str
    package: str
    version: str
    path: str
    licence: str
    author: str
    kinds: tuple[str, ...]
    sky: str = ""  # a PNG under labels/, white where the sky is
    holes: list[list[list[float]]] = field(default_factory=list)  # polygons, 0–1 coordinates
    windows: list[list[float]] = field(default_factory=list)  # boxes, 0–1 (x0, y0, x1, y1)

    def load(self) -> np.ndarray:
        """The photo as RGB, its longest side WORK_SIZE px (or less when it is smaller)."""
        bgr = cv2.imread(str(fetch(self)), cv2.IMREAD_COLOR)
        height, width = bgr.shape[:2]
        scale = min(1.0, WORK_SIZE / max(height, width))
        if scale < 1:
            size = (round(width * scale), round(height * scale))
            bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def load_full(self) -> np.ndarray:
        return cv2.cvtColor(cv2.imread(str(fetch(self)), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)

    def sky_mask(self, shape: tuple[int, int]) -> np.ndarray:
        label = cv2.imread(str(HERE / "labels" / self.sky), cv2.IMREAD_GRAYSCALE)
        return cv2.resize(label, shape[1::-1], interpolation=cv2.INTER_NEAREST) > 127

    def hole_mask(self, shape: tuple[int, int]) -> list[np.ndarray]:
        height, width = shape
        masks = []
        for polygon in self.holes:
            points = np.round(np.array(polygon) * (width, height)).astype(np.int32)
            mask = np.zeros(shape, np.uint8)
            cv2.fillPoly(mask, [points], 1)
            masks.append(mask.astype(bool))
        return masks

    def window_boxes(self, shape: tuple[int, int]) -> list[tuple[int, int, int, int]]:
        height, width = shape
        return [
            (round(x0 * width), round(y0 * height), round(x1 * width), round(y1 * height))
            for x0, y0, x1, y1 in self.windows
        ]


def catalogue() -> list[Photo]:
    entries = json.loads((HERE / "photos.json").read_text())["photos"]
    return [Photo(**{**entry, "kinds": tuple(entry["kinds"])}) for entry in entries]


def fetch(photo: Photo) -> Path:
    """The photo's file, downloaded with its package the first time."""
    target = _target(photo)
    if not target.exists():
        fetch_all([photo])
    return target


def fetch_all(photos: list[Photo]) -> None:
    """Every missing photo, one download per package."""
    missing: dict[str, list[Photo]] = {}
    for photo in photos:
        if not _target(photo).exists():
            missing.setdefault(photo.package, []).append(photo)
    for package, wanted in missing.items():
        CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="bench-deb-") as tmp:
            deb = _download(package, wanted[0].version, Path(tmp))
            tree = Path(tmp) / "tree"
            subprocess.run(["dpkg-deb", "-x", str(deb), str(tree)], check=True)
            for photo in wanted:
                source = (tree / photo.path.lstrip("/")).resolve()
                if tree.resolve() not in source.parents:
                    raise RuntimeError(f"{photo.path} points outside its package")
                shutil.copyfile(source, _target(photo))
                _target(photo).with_suffix(".deb.txt").write_text(deb.name + "\n")


def _target(photo: Photo) -> Path:
    return CACHE / f"{photo.name}{Path(photo.path).suffix}"


def _download(package: str, version: str, folder: Path) -> Path:
    """The package at the recorded version, or the archive's current one when that is gone
    (the .deb's name, with its version, is kept beside the photo)."""
    for spec in (f"{package}={version}", package):
        done = subprocess.run(
            ["apt-get", "download", "-q", spec], cwd=folder, capture_output=True, text=True
        )
        debs = list(folder.glob(f"{package}_*.deb"))
        if done.returncode == 0 and debs:
            return debs[0]
    raise RuntimeError(
        f"apt-get download {package} failed (run apt-get update first): {done.stderr.strip()}"
    )


def main() -> None:
    photos = catalogue()
    fetch_all(photos)
    for photo in photos:
        deb = _target(photo).with_suffix(".deb.txt").read_text().strip()
        print(f"{photo.name:11} {deb:48} {photo.licence:28} {photo.path}")


if __name__ == "__main__":
    main()
