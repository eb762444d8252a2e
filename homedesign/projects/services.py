from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from homedesign.accounts.models import User

from .budget import decoding, user_decode_reserved
from .images import (
    PhotoRejected,
    encode_full,
    load_upright,
    prepare_photo,
    read_photo_header,
    release_freed_memory,
)
from .models import Photo, Project

# `decoding` is this process's budget; full-size downloads (orders.views) reserve from it too.
__all__ = ["decoding", "photo_add", "photo_delete", "project_delete", "projects_delete_for_user"]

# How long an upload waits for this web process to have room to decode it.
DECODE_WAIT_SECONDS = 60


def photo_add(*, project: Project, upload: UploadedFile) -> Photo:
    """Verify an upload and store it with its served copies. Raises images.PhotoRejected.

    Its header is read first: an upload whose decoded pixels would weigh more than the
    per-upload, per-user or per-process budget is refused or waits before any decoding."""
    name = upload.name or "photo"
    header = read_photo_header(
        upload,
        name=name,
        byte_size=upload.size or 0,
        max_bytes=settings.PHOTO_MAX_BYTES,
        max_pixels=settings.PHOTO_MAX_PIXELS,
        max_decode_bytes=settings.PHOTO_DECODE_MAX_BYTES,
        display_size=settings.PHOTO_DISPLAY_SIZE,
    )
    cost = header.decode_bytes
    try:
        with (
            user_decode_reserved(user=project.owner, cost=cost, name=name),
            decoding.reserve(cost, timeout=DECODE_WAIT_SECONDS),
        ):
            prepared = prepare_photo(
                header,
                upload,
                name=name,
                display_size=settings.PHOTO_DISPLAY_SIZE,
                thumbnail_size=settings.PHOTO_THUMBNAIL_SIZE,
            )
    except TimeoutError:
        raise PhotoRejected(
            f"{name} could not be read now: the server is busy reading other large photos. "
            "Upload it again in a minute."
        ) from None
    finally:
        del header  # its decoded pixels, before the memory goes back to the system
        release_freed_memory()
    photo = Photo(
        project=project,
        original_name=upload.name or f"photo.{prepared.extension}",
        format=prepared.format,
        width=prepared.width,
        height=prepared.height,
        byte_size=prepared.byte_size,
        sha256=prepared.sha256,
    )
    try:
        upload.seek(0)
        # The original is kept byte for byte; only its stored name follows the real format.
        photo.original.save(f"original.{prepared.extension}", upload, save=False)
        photo.display.save(
            f"display.{prepared.display_extension}", ContentFile(prepared.display), save=False
        )
        photo.thumbnail.save(
            f"thumbnail.{prepared.thumbnail_extension}", ContentFile(prepared.thumbnail), save=False
        )
        with transaction.atomic():
            photo.save()
            project.save(update_fields=["updated_at"])
    except BaseException:
        _delete_files(photo.stored_files())
        raise
    return photo


def photo_shared_copy(*, photo: Photo) -> None:
    """Make, once, the full-size copy of the photo a share link may offer: its pixels
    only, upright, without the metadata the owner's file keeps. Runs in the worker."""
    if photo.shared_copy:
        return
    with photo.original.open("rb") as file:
        data, extension = encode_full(load_upright(file))
    photo.shared_copy.save(f"shared.{extension}", ContentFile(data), save=False)
    updated = Photo.objects.filter(pk=photo.pk, shared_copy="").update(
        shared_copy=photo.shared_copy.name
    )
    if not updated:  # made meanwhile by another worker; keep theirs
        default_storage.delete(str(photo.shared_copy.name))


def photo_delete(*, photo: Photo) -> None:
    files = _files_with_orders(photo)
    photo.delete()
    transaction.on_commit(lambda: _delete_files(files))


def projects_delete_for_user(*, user: User) -> None:
    """Before an account goes: its projects, with every file they hold."""
    for project in Project.objects.filter(owner=user):
        project_delete(project=project)


def project_delete(*, project: Project) -> None:
    files = [name for photo in project.photos.all() for name in _files_with_orders(photo)]
    project.delete()
    transaction.on_commit(lambda: _delete_files(files))


def _files_with_orders(photo: Photo) -> list[str]:
    """A photo's files and those of the edits made from it, which go with it."""
    return (
        photo.stored_files()
        + [
            name
            for order in photo.orders.prefetch_related("results")
            for name in order.stored_files()
        ]
        + [mask.file.name for mask in photo.masks.all() if mask.file.name]
    )


def _delete_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)
        _remove_empty_folders(name)


def _remove_empty_folders(name: str) -> None:
    """On the filesystem, also drop the photo's and project's folders once they are empty."""
    try:
        folder = Path(default_storage.path(name)).parent
    except NotImplementedError:  # object storage has no folders
        return
    root = Path(default_storage.path(""))
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
