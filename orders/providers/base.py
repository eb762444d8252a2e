from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from PIL import Image

from homedesign.projects.images import encode_full, served_copies
from homedesign.projects.models import Photo

from ..catalog import Service
from ..models import Order

# report(progress_percent, eta_seconds): renews the order's lease and shows progress.
Report = Callable[[int, int | None], None]


@dataclass(frozen=True)
class ResultImage:
    """A finished image as a provider hands it over: encoded bytes and their facts."""

    full: bytes
    full_extension: str
    display: bytes
    thumbnail: bytes
    copies_extension: str
    width: int
    height: int


class ProviderError(Exception):
    """Every provider failure. `permanent` errors will not go away by trying again; the
    message is for the agent, `detail` for staff."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        detail: str = "",
        status: int = 0,
        body: str = "",
        maybe_started: bool = False,
    ):
        super().__init__(message)
        self.message, self.permanent, self.detail = message, permanent, detail
        # The HTTP answer that caused it, for clients that read their API's error bodies.
        self.status, self.body = status, body
        # A job-starting request whose answer was lost: the job may be running there, so
        # no other provider should be asked to do it too.
        self.maybe_started = maybe_started


class ProviderBusy(Exception):
    """The provider takes no more work for now (a rate limit): the order waits in the queue."""

    def __init__(self, message: str, *, retry_after: float):
        super().__init__(message)
        self.message, self.retry_after = message, retry_after


@dataclass(frozen=True)
class Outcome:
    """What submit() or poll() achieved: the finished images, or None while a remote job
    runs. `state` is merged into Order.provider_state (a remote job's ids and progress)."""

    images: list[ResultImage] | None
    ref: str = ""
    note: str = ""  # for the agent, beside the results (e.g. "upscaled 2.3×, not 4×")
    state: dict = field(default_factory=dict)
    eta_seconds: int | None = None


@dataclass(frozen=True)
class WebhookMatch:
    """An order a webhook is about, and what the webhook told us that polling cannot."""

    order: Order
    state: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Offer:
    """What the order form should start from for a photo, and what the agent should know
    before ordering (the edit this installation will really do)."""

    initial: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()


class Provider(ABC):
    name: str
    label: str
    # A remote API that runs, and bills, a job per submission: an order whose worker died
    # while submitting to it is refunded rather than submitted a second time.
    bills_per_job = False

    def unavailable_reason(self) -> str | None:
        """None when this installation can use the provider, else why not (for agents)."""
        return None

    def refuses(self, order: Order) -> str | None:
        """Why this provider cannot do this particular order (e.g. it needs a mask)."""
        return None

    def offer(self, service: Service, photo: Photo) -> Offer:
        """The order form's starting options and notes when this provider serves it."""
        return Offer()

    @abstractmethod
    def submit(self, order: Order, report: Report) -> Outcome:
        """Do the work (local) or hand it over (remote). Raises ProviderError or ProviderBusy."""

    def poll(self, order: Order, report: Report) -> Outcome:
        """News of a remote job that submit() handed over (images=None: not yet). Providers
        that finish in submit() have none to give."""
        raise ProviderError(
            "This edit was lost; please try again.",
            permanent=True,
            detail=f"{self.name} finishes its work in submit(); it follows no remote jobs",
        )

    def webhook_matches(self, payload: dict) -> list[WebhookMatch]:
        """The orders a webhook payload from this provider is about (none: unknown)."""
        return []


def result_image(array: np.ndarray) -> ResultImage:
    """A finished image (RGB or RGBA array) encoded at full size, with its served copies."""
    image = Image.fromarray(array)
    full, extension = encode_full(image)
    copies = served_copies(
        image,
        display_size=settings.PHOTO_DISPLAY_SIZE,
        thumbnail_size=settings.PHOTO_THUMBNAIL_SIZE,
    )
    return ResultImage(
        full=full,
        full_extension=extension,
        display=copies.display,
        thumbnail=copies.thumbnail,
        copies_extension=copies.extension,
        width=image.width,
        height=image.height,
    )
