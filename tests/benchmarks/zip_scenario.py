"""One listing-ZIP measurement in a fresh process; prints a JSON line (see listing_zip.py)."""

import json
import shutil
import sys
import tempfile
import time
import zipfile

import django

from .upload_scenario import rss_mib

SIZE = (8660, 5774)  # 50 MP, 3:2


def photo_like(size: tuple[int, int]):
    """Smooth light, hard edges and sensor noise, so it compresses like a real photo."""
    import random

    from PIL import Image, ImageChops, ImageDraw, ImageFilter

    light = Image.linear_gradient("L").resize(size)
    image = Image.merge("RGB", (light, light.rotate(90).resize(size), light.transpose(1)))
    draw = ImageDraw.Draw(image)
    rng = random.Random(7)
    for _ in range(400):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        colour = tuple(rng.randrange(30, 230) for _ in range(3))
        draw.rectangle((x, y, x + rng.randrange(60, 1200), y + rng.randrange(60, 800)), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(2))
    noise = Image.effect_noise(size, 10).convert("RGB")
    return ImageChops.add(image, noise, scale=1.0, offset=-128)


def setup(count: int) -> dict:
    import io

    import numpy as np
    from django.core.files.uploadedfile import SimpleUploadedFile

    from homedesign.accounts.models import User
    from homedesign.projects.models import Photo, Project
    from homedesign.projects.services import photo_add
    from orders import lifecycle, processing
    from orders.models import Order, OrderResult, Rendition
    from orders.providers.base import result_image

    user = User.objects.create_user(email="zip@example.com", password="x", credits=10_000)
    project = Project.objects.create(owner=user, name="Benchmark listing")
    picture = photo_like(SIZE)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=90)
    first = photo_add(
        project=project,
        upload=SimpleUploadedFile("room.jpg", buffer.getvalue(), content_type="image/jpeg"),
    )
    order = Order(owner=user, photo=first, service="virtual_staging", credits_charged=4)
    lifecycle.order_accept(order)
    lifecycle.order_claim(order)
    lifecycle.order_record_provider(order, provider="aihomedesign")
    processing.order_finish(order, [result_image(np.asarray(picture))])
    result = order.results.get()
    renditions = list(result.renditions.all())
    for number in range(2, count + 1):
        photo = Photo.objects.get(pk=first.pk)
        photo.pk, photo.original_name = None, f"room {number}.jpg"
        photo.save()
        other = Order.objects.create(
            owner=user, photo=photo, service=order.service, options=order.options,
            status=Order.Status.SUCCEEDED, provider="aihomedesign",
        )  # fmt: skip
        copy = OrderResult.objects.create(
            order=other, full=result.full.name, display=result.display.name,
            thumbnail=result.thumbnail.name, width=result.width, height=result.height,
            byte_size=result.byte_size,
        )  # fmt: skip
        Rendition.objects.bulk_create(
            Rendition(
                result=copy,
                kind=r.kind,
                label=r.label,
                file=r.file.name,
                width=r.width,
                height=r.height,
                byte_size=r.byte_size,
            )
            for r in renditions
        )
    return {
        "width": SIZE[0],
        "height": SIZE[1],
        "megapixels": SIZE[0] * SIZE[1] / 1e6,
        "full_mb": next(r.byte_size for r in renditions if r.kind == "full") / 1e6,
    }


def listing_zip(size: str, originals: bool):
    from homedesign.accounts.models import User
    from orders.delivery import listing_zip_build
    from orders.models import ListingZip, OrderResult

    user = User.objects.get(email="zip@example.com")
    project = user.projects.get()
    ListingZip.objects.all().delete()
    archive = ListingZip.objects.create(
        owner=user, project=project, size=size, include_originals=originals
    )
    archive.results.set(OrderResult.objects.filter(order__photo__project=project))

    def run() -> dict:
        listing_zip_build(archive)
        archive.refresh_from_db()
        assert archive.status == ListingZip.Status.READY, archive.message
        return {"zip_mb": archive.byte_size / 1e6}

    return run


def zipfile_copy():
    from homedesign.accounts.models import User
    from orders.models import Rendition

    user = User.objects.get(email="zip@example.com")
    files = [
        r.file.path
        for r in Rendition.objects.filter(
            result__order__owner=user, kind="full", label=user.projects.get().label_corner
        )
    ]

    def run() -> dict:
        with (
            tempfile.TemporaryFile() as spool,
            zipfile.ZipFile(spool, "w", zipfile.ZIP_STORED, allowZip64=True) as zipped,
        ):
            for number, path in enumerate(files):
                with open(path, "rb") as source, zipped.open(f"{number}.jpg", "w") as entry:
                    shutil.copyfileobj(source, entry, 1024 * 1024)
        return {}

    return run


def pillow_decode():
    from PIL import Image

    from homedesign.projects.models import Photo

    path = Photo.objects.first().original.path

    def run() -> dict:
        with Image.open(path) as image:
            image.load()
        return {}

    return run


def deliver_one():
    from orders.delivery import renditions_make
    from orders.models import OrderResult

    result = OrderResult.objects.select_related("order__photo__project").first()

    def run() -> dict:
        renditions_make(result, corner="top_right")  # a corner not made yet: all kinds
        return {}

    return run


def main() -> None:
    name, count = sys.argv[1], int(sys.argv[2])
    django.setup()
    if name == "setup":
        print(json.dumps(setup(count)))
        return
    operation = {
        "zip-full": lambda: listing_zip("full", originals=False),
        "zip-mls-originals": lambda: listing_zip("mls", originals=True),
        "zipfile-copy": zipfile_copy,
        "pillow-decode": pillow_decode,
        "deliver-one": deliver_one,
    }[name]()
    before = rss_mib("VmRSS")
    start = time.perf_counter()
    extra = operation()
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_mib": rss_mib("VmHWM") - before, **extra}))


if __name__ == "__main__":
    main()
