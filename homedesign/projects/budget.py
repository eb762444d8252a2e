"""Memory budgets for decoding uploads: an upload costs what its decoded pixels weigh.

Three limits, all checked before a pixel is decoded, against the cost the header shows
(images.decode_bytes): one upload (PHOTO_DECODE_MAX_MB, in read_photo_header), one user's
uploads at once across every web process (PHOTO_DECODE_USER_MAX_MB, in the database), and
one web process (PHOTO_DECODE_PROCESS_MAX_MB: uploads past it wait their turn).
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from homedesign.accounts.models import User

from .images import PhotoRejected
from .models import DecodeReservation

# Longer than any decode takes; a row a killed process left stops counting after this.
RESERVATION_SECONDS = 600


class ProcessDecodeBudget:
    """Bytes of decoded pixels this process may hold at once. Reserving waits for room."""

    def __init__(self) -> None:
        self._used = 0
        self._room = threading.Condition()
        self._held = threading.local()

    @contextmanager
    def reserve(self, cost: int, *, timeout: float | None = None) -> Iterator[None]:
        """Raises TimeoutError if no room was made within `timeout` seconds."""
        capacity = settings.PHOTO_DECODE_PROCESS_MAX_BYTES
        cost = min(cost, capacity)  # a job as large as the whole budget runs alone
        with self._room:
            if not self._room.wait_for(lambda: self._used + cost <= capacity, timeout):
                raise TimeoutError
            self._used += cost
        try:
            yield
        finally:
            with self._room:
                self._used -= cost
                self._room.notify_all()

    # `with decoding:` for code that cannot tell the cost before decoding a stored photo
    # (full-size downloads): it reserves what the largest accepted upload may take.
    def __enter__(self) -> None:
        held = self.reserve(settings.PHOTO_DECODE_MAX_BYTES)
        held.__enter__()
        self._held.__dict__.setdefault("stack", []).append(held)

    def __exit__(self, *exc_info: object) -> None:
        self._held.stack.pop().__exit__(*exc_info)


decoding = ProcessDecodeBudget()


@contextmanager
def user_decode_reserved(*, user: User, cost: int, name: str) -> Iterator[None]:
    """Hold `cost` bytes of the user's budget while their upload decodes.

    Raises PhotoRejected when their other uploads in progress leave too little.
    """
    now = timezone.now()
    limit = settings.PHOTO_DECODE_USER_MAX_BYTES
    with transaction.atomic():
        # One user's reservations are counted one at a time (SQLite takes its write lock at
        # BEGIN anyway; PostgreSQL waits on this row lock).
        User.objects.select_for_update().only("pk").get(pk=user.pk)
        DecodeReservation.objects.filter(expires_at__lt=now).delete()
        held = DecodeReservation.objects.filter(owner=user).aggregate(total=Sum("bytes"))
        in_progress = held["total"] or 0
        if in_progress + cost > limit:
            raise PhotoRejected(
                f"{name} needs {_mb(cost)} of memory to read, and your uploads in progress "
                f"already use {_mb(in_progress)} of your {_mb(limit)}. Upload it again once "
                "they are done."
            )
        reservation = DecodeReservation.objects.create(
            owner=user, bytes=cost, expires_at=now + timedelta(seconds=RESERVATION_SECONDS)
        )
    try:
        yield
    finally:
        reservation.delete()


def _mb(size: int) -> str:
    return f"{size / 1e6:,.0f} MB"
