import uuid

from django.conf import settings
from django.db import models
from django.template.defaultfilters import filesizeformat
from django.urls import reverse

from homedesign.accounts.models import AnyUser


class ProjectQuerySet(models.QuerySet):
    def for_user(self, user: AnyUser) -> "ProjectQuerySet":
        return self.filter(owner=user) if user.is_authenticated else self.none()

    def with_photo_summary(self) -> "ProjectQuerySet":
        first_photo = Photo.objects.filter(project=models.OuterRef("pk")).order_by("uploaded_at")
        return self.annotate(
            photo_count=models.Count("photos"),
            cover_photo_id=models.Subquery(first_photo.values("pk")[:1]),
        )


class Project(models.Model):
    """One listing: the photos of one property, and later the orders made from them."""

    class LabelMode(models.TextChoices):
        RECOMMENDED = "recommended", "Recommended: on for staging, removal and added exteriors"
        ALL = "all", "On every altered photo"
        OFF = "off", "Off"

    class Corner(models.TextChoices):
        BOTTOM_LEFT = "bottom_left", "Bottom left"
        BOTTOM_RIGHT = "bottom_right", "Bottom right"
        TOP_LEFT = "top_left", "Top left"
        TOP_RIGHT = "top_right", "Top right"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="projects"
    )
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300, blank=True)
    notes = models.TextField(blank=True)
    # The disclosure label burned into the results this listing delivers (downloads, the
    # ZIP, share pages): remembered per listing.
    label_mode = models.CharField(
        "disclosure label", max_length=12, choices=LabelMode.choices, default=LabelMode.RECOMMENDED
    )
    label_corner = models.CharField(
        "label corner", max_length=12, choices=Corner.choices, default=Corner.BOTTOM_RIGHT
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["owner", "-updated_at"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("projects:project_detail", args=[self.pk])


class PhotoQuerySet(models.QuerySet):
    def for_user(self, user: AnyUser) -> "PhotoQuerySet":
        return self.filter(project__owner=user) if user.is_authenticated else self.none()


def photo_file_path(photo: "Photo", filename: str) -> str:
    # One folder per photo, so deleting a photo or a project removes whole folders.
    return f"photos/{photo.project_id}/{photo.pk}/{filename}"


class Photo(models.Model):
    """An uploaded listing photo: the original byte for byte, plus served copies without
    metadata. Width and height are after EXIF orientation."""

    class Format(models.TextChoices):
        JPEG = "JPEG", "JPEG"
        PNG = "PNG", "PNG"
        WEBP = "WEBP", "WebP"
        HEIF = "HEIF", "HEIC"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="photos")
    original = models.FileField(upload_to=photo_file_path, max_length=300)
    display = models.FileField(upload_to=photo_file_path, max_length=300)
    thumbnail = models.FileField(upload_to=photo_file_path, max_length=300)
    # Full size from pixels only (no EXIF, GPS or comment), made once by the worker when a
    # share link offers originals: a visitor never gets the owner's file, nor makes us
    # decode it on their request.
    shared_copy = models.FileField(upload_to=photo_file_path, max_length=300, blank=True)
    original_name = models.CharField(max_length=255)
    format = models.CharField(max_length=8, choices=Format.choices)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    byte_size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    objects = PhotoQuerySet.as_manager()

    class Meta:
        ordering = ["uploaded_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(width__gt=0, height__gt=0), name="photo_has_pixels"
            ),
        ]

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("projects:photo_detail", args=[self.pk])

    def file_url(self, kind: str) -> str:
        return reverse("projects:photo_file", args=[self.pk, kind])

    @property
    def dimensions(self) -> str:
        return f"{self.width} × {self.height}"

    @property
    def file_size(self) -> str:
        return filesizeformat(self.byte_size)

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1_000_000

    def stored_files(self) -> list[str]:
        files = (self.original, self.display, self.thumbnail, self.shared_copy)
        return [f.name for f in files if f.name]


class DecodeReservation(models.Model):
    """Memory one of a user's uploads is decoding right now. Shared through the database, so
    a user's budget holds across web processes; a row left by a killed process expires."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    bytes = models.PositiveBigIntegerField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.bytes / 1e6:,.0f} MB for {self.owner_id} until {self.expires_at:%H:%M:%S}"
