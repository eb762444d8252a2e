import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse

from homedesign.accounts.models import AnyUser


class MaskQuerySet(models.QuerySet):
    def for_user(self, user: AnyUser) -> "MaskQuerySet":
        return self.filter(owner=user) if user.is_authenticated else self.none()


def mask_file_path(mask: "Mask", filename: str) -> str:
    return f"masks/{mask.photo_id}/{filename}"


class Mask(models.Model):
    """A mask the agent painted on a photo, as the editor exported it. Versioned per
    photo, so the area painted to remove a sofa can be reused to build a terrace."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="masks"
    )
    photo = models.ForeignKey("projects.Photo", on_delete=models.CASCADE, related_name="masks")
    version = models.PositiveIntegerField()
    file = models.FileField(upload_to=mask_file_path, max_length=300)
    painted_share = models.FloatField(help_text="Share of the photo painted, 0 to 1.")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MaskQuerySet.as_manager()

    class Meta:
        ordering = ["photo", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["photo", "version"], name="one_mask_per_version"),
        ]

    def __str__(self) -> str:
        return f"Mask {self.version} of {self.photo}"

    def get_file_url(self) -> str:
        return reverse("maskeditor:mask_file", args=[self.pk])
