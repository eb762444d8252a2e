import base64
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.functional import cached_property
from django.utils.text import slugify

from homedesign.accounts.models import AnyUser
from homedesign.projects.models import Photo, Project

from .catalog import (
    SERVICE_CHOICES,
    OptionKind,
    OptionSummary,
    Service,
    describe_options,
    get_service,
    result_caption,
)


class OrderQuerySet(models.QuerySet["Order"]):
    def for_user(self, user: AnyUser) -> "OrderQuerySet":
        return self.filter(owner=user) if user.is_authenticated else self.none()

    def stranded(self, now: datetime | None = None) -> "OrderQuerySet":
        """Processing, but nobody has reported on them within their lease: the worker died."""
        return self.filter(
            status=Order.Status.PROCESSING, lease_expires_at__lt=now or timezone.now()
        )

    def with_queue_ahead(self, *, up_to: int) -> "OrderQuerySet":
        """Each queued order's `queue_ahead`: how many queued orders came in before it (the
        ones the workers take first), counted up to `up_to` + 1 so that a long queue costs
        no more than a short one (a range of the status/created_at index); None for the
        orders that are not waiting."""
        sql = self._queue_ahead_sql(up_to)
        return self.annotate(queue_ahead=RawSQL(sql, (), output_field=models.IntegerField()))

    def progress_of(
        self, *, user: AnyUser, pk: uuid.UUID, queue_up_to: int
    ) -> "OrderProgress | None":
        """One of the user's orders as its page's poll shows it, place in the queue
        included, in one query of our own SQL, read without the ORM: every open order page
        asks every 2 s, and building the query and the model instance with the ORM cost
        more than a bare signed-in request does (measured by `make bench`)."""
        if not user.is_authenticated:
            return None
        connection = connections[self.db]
        table = connection.ops.quote_name(Order._meta.db_table)
        ahead = self._queue_ahead_sql(queue_up_to)
        sql = (
            f"SELECT status, progress, eta, message, lease_expires_at, {ahead} FROM {table} "
            f"WHERE {table}.id = %s AND {table}.owner_id = %s"
        )
        key = Order._meta.pk.get_db_prep_value(pk, connection)
        with connection.cursor() as cursor:
            cursor.execute(sql, [key, user.pk])
            row = cursor.fetchone()
        if row is None:
            return None
        status, progress, eta, message, lease_expires_at, queue_ahead = row
        return OrderProgress(
            pk=pk,
            status=status,
            progress=progress,
            eta=_datetime_from_db(eta, "eta", connection),
            message=message,
            lease_expires_at=_datetime_from_db(lease_expires_at, "lease_expires_at", connection),
            queue_ahead=queue_ahead,
        )

    def _queue_ahead_sql(self, up_to: int) -> str:
        """The status and the cap are written into the SQL, not bound as parameters: with
        them known, PostgreSQL keeps one plan for the poll's prepared statement instead of
        planning it again on every poll (its generic plan would guess at both)."""
        table = connections[self.db].ops.quote_name(Order._meta.db_table)
        queued = Order.Status.QUEUED.value  # our constant: a lowercase word
        limit = int(up_to) + 1
        return f"""
            CASE WHEN {table}.status = '{queued}' THEN (
                SELECT COUNT(*) FROM (
                    SELECT 1 FROM {table} ahead
                    WHERE ahead.status = '{queued}' AND ahead.created_at < {table}.created_at
                    LIMIT {limit}
                ) counted
            ) END"""

    def gallery_groups(self) -> list[tuple["Order", list["Order"]]]:
        """Each first order with itself and its variations, as galleries show them; newest
        first. A variation whose parent is not among these orders stands on its own."""
        orders = list(self)
        ids = {order.pk for order in orders}
        children: dict[uuid.UUID, list[Order]] = {}
        for order in orders:
            if order.parent_id in ids:
                children.setdefault(order.parent_id, []).append(order)
        return [
            (root, [root, *reversed(children.get(root.pk, []))])
            for root in orders
            if root.parent_id not in ids
        ]


@dataclass(frozen=True)
class OrderProgress:
    """An order as its page's poll shows it while it runs (OrderQuerySet.progress_of)."""

    pk: uuid.UUID
    status: str
    progress: int
    eta: datetime | None
    message: str
    lease_expires_at: datetime | None
    queue_ahead: int | None

    @property
    def is_finished(self) -> bool:
        return self.status in Order.FINISHED

    def get_absolute_url(self) -> str:
        return reverse("orders:order_detail", args=[self.pk])


def _datetime_from_db(value: object, name: str, connection: BaseDatabaseWrapper) -> datetime | None:
    """A datetime column as the ORM would read it: PostgreSQL's as it comes, SQLite's (naive
    UTC) through the backend's converters."""
    if value is None or (isinstance(value, datetime) and timezone.is_aware(value)):
        return value
    field = Order._meta.get_field(name)
    column = field.get_col(Order._meta.db_table)  # type: ignore[union-attr]
    for convert in connection.ops.get_db_converters(column):
        value = convert(value, column, connection)
    return value  # type: ignore[return-value]


def order_file_path(result: "OrderResult", filename: str) -> str:
    return f"orders/{result.order_id}/{filename}"


class BatchQuerySet(models.QuerySet["Batch"]):
    def for_user(self, user: AnyUser) -> "BatchQuerySet":
        return self.filter(owner=user) if user.is_authenticated else self.none()


class Batch(models.Model):
    """One order for many photos of a listing: the same service and options, each photo
    its own Order (own progress, result and refund), grouped here."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="batches"
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="batches"
    )
    service = models.CharField(max_length=40, choices=SERVICE_CHOICES)
    options = models.JSONField(default=dict, blank=True)
    # Photos still to paint, in order, for a service that needs a mask on each.
    photos_to_paint = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BatchQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "batches"

    def __str__(self) -> str:
        return f"{self.service_info.label} of {self.project}"

    def get_absolute_url(self) -> str:
        return reverse("orders:batch_detail", args=[self.pk])

    @property
    def service_info(self) -> Service:
        return get_service(self.service)


class ListingStyle(models.Model):
    """The look a listing's staging and design orders start from, so its rooms match: one
    style and colour scheme for the home, and each photo's room type."""

    project = models.OneToOneField(
        "projects.Project", on_delete=models.CASCADE, primary_key=True, related_name="style"
    )
    style = models.CharField(max_length=40, blank=True)
    colour = models.CharField(max_length=40, blank=True)
    room_types = models.JSONField(default=dict, blank=True, help_text="Photo id → room type.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Style of {self.project}"

    def options_for(self, photo_id: uuid.UUID | None) -> dict[str, str]:
        """The options a new staging or design order of this photo (or of any photo)
        starts from."""
        chosen = {
            "style": self.style,
            "colour": self.colour,
            "room_type": self.room_types.get(str(photo_id), "") if photo_id else "",
        }
        return {name: value for name, value in chosen.items() if value}


class Order(models.Model):
    """One edit of one photo. Its status changes only through orders.lifecycle."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        PROCESSING = "processing", "Processing"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    UNFINISHED = (Status.QUEUED, Status.PROCESSING)
    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="orders"
    )
    photo = models.ForeignKey("projects.Photo", on_delete=models.CASCADE, related_name="orders")
    parent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="variations",
        help_text="The order this one is a variation of.",
    )
    service = models.CharField(max_length=40, choices=SERVICE_CHOICES)
    options = models.JSONField(default=dict, blank=True)
    batch = models.ForeignKey(
        Batch, on_delete=models.SET_NULL, null=True, blank=True, related_name="orders"
    )
    mask = models.ForeignKey(
        "maskeditor.Mask",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
        help_text="The painted mask version this order used.",
    )

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    provider = models.CharField(max_length=40, blank=True)
    provider_ref = models.CharField("provider's id", max_length=200, blank=True, db_index=True)
    provider_state = models.JSONField(default=dict, blank=True)
    # Only the latest scheduled poll of a remote job runs; a webhook or the reaper asking
    # for a poll sooner supersedes the one waiting (see lifecycle.order_poll_later).
    poll_token = models.PositiveIntegerField(default=0, editable=False)
    progress = models.PositiveSmallIntegerField(default=0)
    eta = models.DateTimeField("expected at", null=True, blank=True)
    message = models.TextField("message for the agent", blank=True)
    error_detail = models.TextField("technical detail", blank=True)

    credits_charged = models.PositiveIntegerField(default=0)
    credits_refunded = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            # A waiting order's place in the queue is a range of this index (and any filter
            # on the status alone uses its first column).
            models.Index(fields=["status", "created_at"], name="order_status_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="order_progress_at_most_100"
            ),
            models.CheckConstraint(
                condition=models.Q(credits_refunded__lte=models.F("credits_charged")),
                name="order_refund_at_most_charge",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_info.label} of {self.photo}"

    def get_absolute_url(self) -> str:
        return reverse("orders:order_detail", args=[self.pk])

    @property
    def service_info(self) -> Service:
        return get_service(self.service)

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    def option_summary(self) -> list[OptionSummary]:
        return describe_options(self.service_info, self.options)

    @property
    def short_label(self) -> str:
        """The choices that tell this order from its siblings, e.g. "Blue hour" or "4×"."""
        info = self.service_info
        picks = [
            summary.value.split(" (")[0]
            for option, summary in zip(info.options, self.option_summary(), strict=True)
            if option.kind == OptionKind.CHOICE
        ]
        return " · ".join(picks)

    def stored_files(self) -> list[str]:
        return [name for result in self.results.all() for name in result.stored_files()]


class OrderResult(models.Model):
    """One image an order produced: full size, plus display copy and thumbnail."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="results")
    index = models.PositiveSmallIntegerField(default=0)
    full = models.FileField(upload_to=order_file_path, max_length=300)
    display = models.FileField(upload_to=order_file_path, max_length=300)
    thumbnail = models.FileField(upload_to=order_file_path, max_length=300)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    byte_size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "index"]
        constraints = [
            # A task that runs twice must not add its results twice.
            models.UniqueConstraint(fields=["order", "index"], name="one_result_per_index"),
        ]

    def __str__(self) -> str:
        return f"{self.caption} ({self.order.photo})"

    def file_url(self, kind: str) -> str:
        return reverse("orders:result_file", args=[self.pk, kind])

    # Cached: a listing's gallery shows each of its results up to six times.
    @cached_property
    def thumbnail_url(self) -> str:
        return self.file_url("thumbnail")

    @cached_property
    def caption(self) -> str:
        """What it is, "Virtually staged · Scandinavian living room"; the second of an
        order's several results says so."""
        caption = result_caption(self.order.service_info, self.order.options)
        return f"{caption} · option {self.index + 1}" if self.index else caption

    @property
    def disclosure(self) -> str:
        return self.order.service_info.disclosure

    @property
    def is_transparent(self) -> bool:
        return str(self.full.name).endswith(".png")

    @property
    def download_stem(self) -> str:
        """The photo's name and what was done: "living-room-virtually-staged"; numbered
        by the photo's place in the listing where that is known (ZIPs, downloads)."""
        info = self.order.service_info
        what = slugify(info.disclosure or info.label)
        suffix = f"-{self.index + 1}" if self.index else ""
        return f"{photo_stem(self.order.photo)}-{what}{suffix}"

    def stored_files(self) -> list[str]:
        own = [f.name for f in (self.full, self.display, self.thumbnail) if f.name]
        return own + [r.file.name for r in self.renditions.all() if r.file.name]


def photo_stem(photo: Photo) -> str:
    """ "02-living-room": the photo's place in its listing and its name, for file names that
    sort and pair (the edit's name starts with its original's)."""
    number = Photo.objects.filter(project=photo.project_id, uploaded_at__lt=photo.uploaded_at)
    name = slugify(photo.original_name.rsplit(".", 1)[0]) or "photo"
    return f"{number.count() + 1:02d}-{name}"


class Rendition(models.Model):
    """A result as delivered: full size, on white, MLS or web size, with its metadata and,
    when the listing asks for one, a disclosure label in a corner. Made once, by the
    worker (orders.delivery)."""

    class Kind(models.TextChoices):
        FULL = "full", "Full size"
        FULL_WHITE = "full_white", "Full size on white (JPEG)"
        MLS = "mls", "MLS"
        WEB = "web", "Web"

    result = models.ForeignKey(OrderResult, on_delete=models.CASCADE, related_name="renditions")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    # The corner of the burned-in label, or "" for none.
    label = models.CharField(max_length=12, blank=True)
    file = models.FileField(upload_to="deliveries/", max_length=300)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    byte_size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["result", "kind", "label"], name="one_rendition_per_kind_and_label"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.result_id}"

    @property
    def extension(self) -> str:
        return str(self.file.name).rsplit(".", 1)[-1]


def share_token(link_id: uuid.UUID) -> str:
    """A link's secret: 256 bits derived from its id with the server's key, so the owner can
    copy it again while the database alone (which keeps only its digest) opens nothing.
    Changing SECRET_KEY changes every link's address."""
    mac = salted_hmac("orders.share", str(link_id), algorithm="sha256").digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ShareLinkQuerySet(models.QuerySet["ShareLink"]):
    def for_user(self, user: AnyUser) -> "ShareLinkQuerySet":
        return self.filter(owner=user) if user.is_authenticated else self.none()

    def live(self) -> "ShareLinkQuerySet":
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )

    def of_project(self, project: Project) -> "ShareLinkQuerySet":
        """Links to the listing or to one of its orders."""
        return self.filter(models.Q(project=project) | models.Q(order__photo__project=project))

    def by_token(self, token: str) -> "ShareLink | None":
        digest = token_digest(token)
        return self.filter(models.Q(token_digest=digest) | models.Q(former_digest=digest)).first()


class ShareLink(models.Model):
    """A public, read-only page of results, reached only by its unguessable token."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="share_links"
    )
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    # Links made before tokens were derived kept their random token: its digest.
    former_digest = models.CharField(  # noqa: DJ001 (unique: an absent one must be NULL)
        max_length=64, null=True, unique=True, editable=False
    )
    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="share_links",
    )
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, null=True, blank=True, related_name="share_links"
    )
    include_originals = models.BooleanField(
        default=False, help_text="Let visitors download the original photos too."
    )
    allow_downloads = models.BooleanField(
        default=True, help_text="Let visitors download the results (full, MLS and web size)."
    )
    show_address = models.BooleanField(
        default=False, help_text="Show the listing's address on the page."
    )

    class Label(models.TextChoices):
        LISTING = "", "As set for the listing"
        ALL = Project.LabelMode.ALL.value, "On every altered photo"
        OFF = Project.LabelMode.OFF.value, "Off"

    label_mode = models.CharField(
        "disclosure label",
        max_length=12,
        choices=Label.choices,
        blank=True,
        default=Label.LISTING,
        help_text="The label on the page's pictures and downloads; by default the listing's.",
    )
    results = models.ManyToManyField(
        OrderResult,
        blank=True,
        related_name="share_links",
        help_text="The results the owner picked, when the link shows picks only.",
    )
    for_review = models.BooleanField(
        default=False,
        help_text="Its visitor may approve each result or ask for a change, with a comment.",
    )
    picks_only = models.BooleanField(
        default=False,
        help_text="Show only the picked results (fewer once some are deleted); otherwise "
        "every result of the subject.",
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    view_count = models.PositiveIntegerField(default=0)
    last_viewed_at = models.DateTimeField(null=True, blank=True)

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(project__isnull=False, order__isnull=True)
                    | models.Q(project__isnull=True, order__isnull=False)
                ),
                name="share_link_has_one_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"Share link for {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("orders:share_page", args=[self.token])

    @property
    def token(self) -> str:
        return share_token(self.pk)

    @property
    def subject(self) -> "Project | Order":
        return self.project or self.order  # type: ignore[return-value]  # one is set (constraint)

    @property
    def subject_url(self) -> str:
        """Where its owner manages the link: the project's gallery or the order's page."""
        if self.project_id:
            return reverse("orders:project_gallery", args=[self.project_id])
        return self.subject.get_absolute_url()

    @property
    def is_live(self) -> bool:
        if self.revoked_at:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()

    def subject_results(self) -> models.QuerySet[OrderResult]:
        """Every finished result of the order or project the link is about."""
        results = OrderResult.objects.filter(order__status=Order.Status.SUCCEEDED)
        if self.order_id:
            results = results.filter(order=self.order_id)
        else:
            results = results.filter(order__photo__project=self.project_id)
        return results.select_related("order__photo").order_by("order__created_at", "index")

    def shared_results(self) -> models.QuerySet[OrderResult]:
        """What the page shows: the picks that remain (never more), else every result of
        the subject; and on a review link, the variations that answer its visitor."""
        results = self.subject_results()
        if self.picks_only:
            results = results.filter(share_links=self)
        if self.for_review:
            answers = OrderResult.objects.filter(
                order__status=Order.Status.SUCCEEDED, order__answered_reviews__link=self
            )
            results = (results | answers).distinct()
        return results

    def shared_photos(self) -> "models.QuerySet[Photo]":
        """The photos whose results the page shows: their "before", and originals if allowed."""
        return Photo.objects.filter(orders__results__in=self.shared_results()).distinct()


class ReviewQuerySet(models.QuerySet["Review"]):
    def for_user(self, user: AnyUser) -> "ReviewQuerySet":
        return self.filter(link__owner=user) if user.is_authenticated else self.none()

    def waiting(self) -> "ReviewQuerySet":
        """Change requests the agent has not answered with a variation yet."""
        return self.filter(verdict=Review.Verdict.CHANGES, answered_by__isnull=True)


class Review(models.Model):
    """What the visitor of a review link said about one result: approved, or a change
    asked for with a comment. Each answer is kept; the latest per result stands."""

    class Verdict(models.TextChoices):
        APPROVED = "approved", "Approved"
        CHANGES = "changes", "Change requested"

    COMMENT_MAX_LENGTH = 1000

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    link = models.ForeignKey(ShareLink, on_delete=models.CASCADE, related_name="reviews")
    result = models.ForeignKey(OrderResult, on_delete=models.CASCADE, related_name="reviews")
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    comment = models.TextField(blank=True, max_length=COMMENT_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    answered_by = models.ForeignKey(
        Order,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="answered_reviews",
        help_text="The variation the agent made in answer.",
    )

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["link", "result", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_verdict_display()} on {self.result}"

    @property
    def is_waiting(self) -> bool:
        """A change request the agent has not answered yet."""
        return self.verdict == self.Verdict.CHANGES and self.answered_by_id is None


class ListingZipQuerySet(models.QuerySet["ListingZip"]):
    def for_user(self, user: AnyUser) -> "ListingZipQuerySet":
        return self.filter(owner=user) if user.is_authenticated else self.none()

    def stranded(self, now: datetime | None = None) -> "ListingZipQuerySet":
        """Building, but its worker has not written an entry within the deadline: it died."""
        deadline = (now or timezone.now()) - timedelta(seconds=settings.LISTING_ZIP_STALE_SECONDS)
        return self.filter(status=ListingZip.Status.BUILDING, heartbeat_at__lt=deadline)


def zip_file_path(archive: "ListingZip", filename: str) -> str:
    return f"zips/{archive.project_id}/{archive.pk}/{filename}"


class ListingZip(models.Model):
    """The whole listing in one download: chosen results (and their originals), built by
    the worker (orders.delivery.listing_zip_build)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        BUILDING = "building", "Building"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    SIZES = (
        ("mls", "MLS size (JPEG, 2048 px)"),
        ("web", "Web size"),
        ("full", "Full size"),
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="listing_zips"
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="listing_zips"
    )
    results = models.ManyToManyField(OrderResult, related_name="listing_zips")
    size = models.CharField(max_length=8, choices=SIZES, default="mls")
    include_originals = models.BooleanField(default=False)
    MAX_BUILDS = 2  # a ZIP whose worker died is built once more, then failed

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    message = models.TextField("message for the agent", blank=True)
    # Each build counts; its worker writes heartbeat_at with every entry it adds.
    builds = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField("last entry written at", null=True, blank=True)
    file = models.FileField(upload_to=zip_file_path, max_length=300, blank=True)
    byte_size = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ListingZipQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "listing ZIP"

    def __str__(self) -> str:
        return f"ZIP of {self.project}"

    def get_absolute_url(self) -> str:
        return reverse("orders:listing_zip_detail", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.READY, self.Status.FAILED)

    @property
    def download_name(self) -> str:
        return f"{slugify(self.project.name) or 'listing'}-{self.size}.zip"


class ProviderAccount(models.Model):
    """What a remote provider last told us about our account with it."""

    provider = models.CharField(max_length=40, unique=True)
    remaining_photos = models.IntegerField(
        null=True, blank=True, help_text="Photos left on the subscription (IACrea)."
    )
    recent_orders = models.JSONField(
        default=list, blank=True, help_text="When the last orders were sent (rate limits)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.provider


class CatalogEntry(models.Model):
    """A space (room type) or widget item of AI HomeDesign's catalogue, for one service.

    Their ids are opaque and may change: `manage.py aihomedesign_catalog` fetches them
    again, and submissions fetch them when none are stored."""

    class Kind(models.TextChoices):
        SPACE = "space", "Space"
        ITEM = "item", "Widget item"

    service_name = models.CharField(max_length=80)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    space_name = models.CharField(max_length=120, blank=True, help_text="Items: their space.")
    remote_id = models.CharField("id", max_length=120)
    name = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=200)
    widget_id = models.CharField(max_length=120, blank=True)
    widget_title = models.CharField(max_length=200, blank=True)
    widget_optional = models.BooleanField(default=True)
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["service_name", "kind", "space_name", "widget_title", "title"]
        verbose_name_plural = "catalog entries"
        indexes = [models.Index(fields=["service_name", "kind", "space_name"])]

    def __str__(self) -> str:
        return f"{self.service_name}: {self.widget_title or 'space'} {self.title}"
