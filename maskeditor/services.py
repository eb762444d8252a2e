import numpy as np
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max

from homedesign.projects.models import Photo

from .masks import to_editor_png
from .models import Mask


def mask_save(*, photo: Photo, painted: np.ndarray) -> Mask:
    """Store a painted mask as the photo's next version (re-encoded from its pixels)."""
    for _ in range(3):  # two saves at once may pick the same number; the constraint decides
        version = (photo.masks.aggregate(last=Max("version"))["last"] or 0) + 1
        mask = Mask(
            owner=photo.project.owner,
            photo=photo,
            version=version,
            painted_share=float(painted.mean()),
        )
        mask.file.save(f"mask-{version}.png", ContentFile(to_editor_png(painted)), save=False)
        try:
            with transaction.atomic():
                mask.save()
            return mask
        except IntegrityError:
            mask.file.storage.delete(mask.file.name)
    raise IntegrityError("could not number the mask")
