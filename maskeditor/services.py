from typing import IO

import numpy as np
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max

from homedesign.projects.models import Photo
from orders.catalog import Service

from .masks import check_coverage, read_mask, to_editor_png
from .models import Mask


def mask_accept(*, photo: Photo, upload: IO[bytes], service: Service | None = None) -> Mask:
    """The one way in for a painted mask, from the editor or the order form's file field:
    read and check it (exact size, the two values, not empty, not beyond what `service`
    allows), then store it as the photo's next version. Raises MaskRejected."""
    painted = read_mask(upload, size=(photo.width, photo.height))
    if service is not None:  # refuse before storing what the order would refuse anyway
        check_coverage(float(painted.mean()), at_most=service.max_mask_share)
    return mask_save(photo=photo, painted=painted)


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
