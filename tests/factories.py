from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from homedesign.accounts.models import User
from homedesign.projects.models import Photo, Project
from homedesign.projects.services import photo_add

from .images import jpeg_bytes

PASSWORD = "correct horse battery staple"


def make_user(email: str = "agent@example.com", *, password: str = PASSWORD, **fields) -> User:
    return User.objects.create_user(email=email, password=password, **fields)


def make_project(owner: User, *, name: str = "12 Rue des Lilas", **fields) -> Project:
    return Project.objects.create(owner=owner, name=name, **fields)


def make_photo(
    project: Project, *, name: str = "living-room.jpg", data: bytes | None = None
) -> Photo:
    upload = SimpleUploadedFile(name, data or jpeg_bytes(), content_type="image/jpeg")
    return photo_add(project=project, upload=upload)


def make_order(photo: Photo, *, service: str = "image_enhancement", **options):
    from orders.catalog import get_service
    from orders.services import order_place

    info = get_service(service)
    return order_place(
        user=photo.project.owner,
        photo=photo,
        service=service,
        options={**info.default_options(), **options},
    )


def mask_png(size: tuple[int, int], box: tuple[int, int, int, int]) -> bytes:
    """An AI HomeDesign-style mask: opaque #7878CD in `box`, transparent elsewhere."""
    import io

    from PIL import Image

    image = Image.new("RGBA", size, (0, 0, 0, 0))
    image.paste((0x78, 0x78, 0xCD, 255), box)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def run_to_the_end(order, limit: int = 20):
    """What the worker does with a remote order: run it, then poll until it is finished
    (or waits in the queue again)."""
    from orders.tasks import poll_order_task, run_order_task

    run_order_task.call(order_id=order.pk)
    for _ in range(limit):
        order.refresh_from_db()
        if order.is_finished or order.status == "queued":
            return order
        poll_order_task.call(order_id=order.pk)
    order.refresh_from_db()
    return order


def make_finished_order(
    photo: Photo,
    *,
    service: str,
    provider: str = "aihomedesign",
    images: list | None = None,
    **options,
):
    """An order finished as a worker finishes one, with results a provider handed back: the
    path through order_finish is the real one, only the provider's work is skipped (staging
    and redesign have no local provider to run in tests)."""
    import numpy as np

    from orders import lifecycle, processing
    from orders.catalog import get_service
    from orders.models import Order
    from orders.providers.base import result_image

    info = get_service(service)
    order = Order(
        owner=photo.project.owner,
        photo=photo,
        service=service,
        options={**info.default_options(), **options},
        credits_charged=info.credits,
    )
    lifecycle.order_accept(order)
    lifecycle.order_claim(order)
    lifecycle.order_record_provider(order, provider=provider)
    if images is None:
        pixels = np.full((photo.height, photo.width, 3), (150, 150, 150), dtype=np.uint8)
        images = [result_image(pixels)]
    processing.order_finish(order, images)
    order.refresh_from_db()
    return order


class Stored:
    """A stored file by name, on disk or in the bucket, whichever this run uses."""

    def __init__(self, name: str) -> None:
        self.name = str(name)

    def exists(self) -> bool:
        return default_storage.exists(self.name)

    def read_bytes(self) -> bytes:
        with default_storage.open(self.name, "rb") as file:
            return file.read()


def view_answer(response):
    """The headers the view itself answered with: with files in a bucket, the test client
    follows the view's redirect to the file, and keeps the redirect as `.redirect`."""
    return getattr(response, "redirect", response)


def stored_under(folder: str) -> list[str]:
    """Every stored file under a folder (a key prefix in a bucket), on either storage."""
    try:
        folders, files = default_storage.listdir(folder)
    except FileNotFoundError:  # on disk, a folder never made
        return []
    return [f"{folder}/{name}" for name in files] + [
        name for sub in folders for name in stored_under(f"{folder}/{sub}")
    ]


def make_copies_of(order, count: int, **fields) -> list:
    """`count` more orders like a finished `order` (`fields` changed), each with copies of
    its results on the same stored files, in two bulk INSERTs: a gallery of hundreds of
    results in milliseconds."""
    from orders.models import Order, OrderResult

    skip = {"id", "created_at"}
    values = {
        f.attname: getattr(order, f.attname)
        for f in Order._meta.concrete_fields
        if f.name not in skip
    }
    for name in fields:  # `photo=` replaces `photo_id`
        values.pop(Order._meta.get_field(name).attname, None)
    copies = Order.objects.bulk_create([Order(**values, **fields) for _ in range(count)])
    results = list(order.results.all())
    OrderResult.objects.bulk_create(
        [
            OrderResult(
                order=copy,
                index=result.index,
                full=result.full.name,
                display=result.display.name,
                thumbnail=result.thumbnail.name,
                width=result.width,
                height=result.height,
                byte_size=result.byte_size,
            )
            for copy in copies
            for result in results
        ]
    )
    return copies
