"""The object-remover HTTP API (../shared/provider-docs/object-remover-http-api.txt).

Two-step flow: upload-image, upload-mask, inpaint, then download the result. The server
forgets uploads when it restarts and answers 404 on /inpaint: we upload again, once.
"""

import io

import numpy as np
from django.conf import settings
from PIL import Image

from maskeditor.masks import to_object_remover_png

from ..models import Order
from .base import Outcome, Provider, ProviderError, Report, result_image
from .http import ApiClient, provider_client
from .inputs import as_png, required_mask, same_size_or_fail, upright_photo


class ObjectRemoverProvider(Provider):
    name = "object_remover"
    label = "object-remover"

    def unavailable_reason(self) -> str | None:
        return None if settings.OBJECT_REMOVER_BASE_URL else "needs an object-remover server"

    def refuses(self, order: Order) -> str | None:
        return None if order.mask else "needs a painted mask"

    def client(self) -> ApiClient:
        token = settings.OBJECT_REMOVER_TOKEN
        return provider_client(
            label=self.label,
            base_url=settings.OBJECT_REMOVER_BASE_URL,
            headers={"Authorization": f"Bearer {token}"} if token else {},
        )

    def submit(self, order: Order, report: Report) -> Outcome:
        api = self.client()
        photo = upright_photo(order)
        painted = required_mask(order, photo.size)
        image_png = as_png(photo)  # the API reads PNG and JPEG; ours may be HEIC or WebP
        mask_png = to_object_remover_png(painted, mode="L")  # grey > 0 = remove
        report(20, None)

        filename = None
        for attempt in (1, 2):
            image_id = api.request(
                "POST",
                "/upload-image",
                files={"image": ("photo.png", image_png, "image/png")},
                idempotent=True,  # uploads and the synchronous inpaint start no billed job
            ).json()["id"]
            mask_id = api.request(
                "POST",
                "/upload-mask",
                files={"mask": ("mask.png", mask_png, "image/png")},
                idempotent=True,
            ).json()["id"]
            report(40, None)
            try:
                reply = api.request(
                    "POST",
                    "/inpaint",
                    json={"image_id": image_id, "mask_id": mask_id},
                    idempotent=True,
                )
            except ProviderError as error:
                if attempt == 1 and error.status == 404:
                    continue  # the server restarted and forgot the uploads
                raise
            filename = reply.json()["result"]
            break
        report(80, None)
        data = api.download_image(f"/download/{filename}", max_bytes=settings.RESULT_MAX_BYTES)
        result = Image.open(io.BytesIO(data))
        same_size_or_fail(self.label, result, photo.size)
        return Outcome(images=[result_image(np.asarray(result.convert("RGB")))], ref=str(filename))
