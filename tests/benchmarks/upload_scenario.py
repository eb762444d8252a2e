"""One measurement in a fresh process; prints a JSON line with seconds and peak MiB."""

import json
import sys
import time
from pathlib import Path


def rss_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(field)


def make_photo(path: Path) -> None:
    """A 24 MP photo-like JPEG: smooth light, hard edges and sensor noise, so it compresses
    like a real photo rather than like a flat test card."""
    import random

    from PIL import Image, ImageChops, ImageDraw, ImageFilter

    size = (6000, 4000)
    light = Image.linear_gradient("L").resize(size)
    image = Image.merge("RGB", (light, light.rotate(90).resize(size), light.transpose(1)))
    draw = ImageDraw.Draw(image)
    rng = random.Random(7)
    for _ in range(400):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        colour = tuple(rng.randrange(30, 230) for _ in range(3))
        draw.rectangle((x, y, x + rng.randrange(40, 900), y + rng.randrange(40, 600)), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(2))
    noise = Image.effect_noise(size, 12).convert("RGB")
    image = ImageChops.add(image, noise, scale=1.0, offset=-128)
    image.save(path, "JPEG", quality=90)


# The worst shapes an upload may have: 100 MP, 16-bit, with transparency. Smooth gradients
# keep the files small, as the 194 KB 16-bit PNG that once took 1.25 GB was.
WORST_SHAPES = {
    "grey16-100mp.png": (10_000, 10_000, 1),
    "rgba16-100mp.png": (10_000, 10_000, 4),
    "rgba8-100mp.png": (10_000, 10_000, -4),
}


def make_worst(folder: Path) -> None:
    import cv2
    import numpy as np

    for name, (width, height, channels) in WORST_SHAPES.items():
        dtype = np.uint8 if channels < 0 else np.uint16
        top = np.iinfo(dtype).max
        x = np.linspace(0, top, width, dtype=np.float32)
        y = np.linspace(0, top, height, dtype=np.float32)[:, None]
        planes = [(x * 0.7 + y * 0.3), (x * 0.2 + y * 0.8), (x[::-1] * 0.5 + y * 0.5), y + 0 * x]
        image = np.dstack([p.astype(dtype) for p in planes[: abs(channels)]])
        cv2.imwrite(str(folder / name), image.squeeze(), [cv2.IMWRITE_PNG_COMPRESSION, 6])


def pillow_decode(path: Path) -> None:
    from PIL import Image

    with Image.open(path) as image:
        image.load()


def upload(path: Path):
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from django.urls import reverse

    from homedesign.accounts.models import User
    from homedesign.projects.models import Project

    user, _ = User.objects.get_or_create(email="bench@example.com")
    project, _ = Project.objects.get_or_create(owner=user, name="Benchmark")
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    url = reverse("projects:photo_upload", args=[project.pk])
    data = path.read_bytes()

    def run() -> None:
        file = SimpleUploadedFile(path.name, data, content_type="image/jpeg")
        response = client.post(url, {"photos": [file]}, HTTP_ACCEPT="application/json")
        assert response.status_code == 201, response.content

    return run


def memory_after(folder: Path) -> dict:
    """One process, like a web process: its size after a small upload, then after every worst
    upload one by one and two at once (as the page sends them)."""
    import threading

    def post(name: str) -> None:
        # The file is read for each request and dropped after, as a web process would.
        upload(folder / name)()

    def worst_uploads() -> float:
        for name in WORST_SHAPES:
            post(name)
        pair = [threading.Thread(target=post, args=(name,)) for name in list(WORST_SHAPES)[:2]]
        for thread in pair:
            thread.start()
        for thread in pair:
            thread.join()
        return rss_mib("VmRSS")

    post("listing-24mp.jpg")
    before = rss_mib("VmRSS")
    after = worst_uploads()
    # A second round shows whether what stays is kept once (caches) or piles up (a leak).
    again = worst_uploads()
    return {
        "before_mib": before,
        "after_mib": after,
        "again_mib": again,
        "peak_mib": rss_mib("VmHWM"),
    }


def main() -> None:
    name, path = sys.argv[1], Path(sys.argv[2])
    if name == "make-photo":
        make_photo(path)
        return
    if name == "make-worst":
        make_worst(path)
        return
    if name == "memory-after":
        print(json.dumps(memory_after(path)))
        return
    # Setup (imports, Django, reading the file) happens before the clock and the memory mark.
    operation = upload(path) if name == "upload" else (lambda: pillow_decode(path))
    if name == "pillow-decode":
        from PIL import Image  # noqa: F401  (import cost is not part of decoding)
    before = rss_mib("VmRSS")
    start = time.perf_counter()
    operation()
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_mib": rss_mib("VmHWM") - before}))


if __name__ == "__main__":
    main()
