import numpy as np
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max

from homedesign.projects.models import Photo

from .masks import to_editor_png
from .models import Mask


def mask_save(*, photo: Photo, painted: np.ndarray) -> Mask:
    """Store a painted mask as the photo's next version (re-encoded from its pixels)."""
    data = to_editor_png(painted)
    with transaction.atomic():
        # Lock the photo so two saves at once cannot take the same version number.
        Photo.objects.select_for_update().filter(pk=photo.pk).exists()
        version = (photo.masks.aggregate(last=Max("version"))["last"] or 0) + 1
        mask = Mask(
            owner=photo.project.owner,
            photo=photo,
            version=version,
            painted_share=float(painted.mean()),
        )
        mask.file.save(f"mask-{version}.png", ContentFile(data), save=False)
        mask.save()
    return mask
