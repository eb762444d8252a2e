import uuid

from django import forms
from django.http import HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from homedesign.http import AuthedRequest
from homedesign.projects.models import Photo
from homedesign.projects.serving import serve_file
from orders.catalog import SERVICES, MaskUse, Service

from .masks import MaskRejected
from .models import Mask
from .services import mask_accept


def mask_editor(
    request: AuthedRequest, *, photo: Photo, service: Service, form: forms.Form, context: dict
) -> HttpResponse:
    """The order form of a service that takes a mask: the editor, with the order's fields
    beside it. The order view handles the form; this renders the editor step."""
    masks = photo.masks.all()
    # The painting of an order refused after painting (credits, say), or the one the form
    # starts from (a variation starts from its parent's).
    posted = getattr(form, "cleaned_data", {}).get("mask_id") or form.initial.get("mask_id")
    initial = next((mask for mask in masks if mask.pk == posted), None)
    editor = {
        "width": photo.width,
        "height": photo.height,
        "service": service.key,
        "uploadUrl": reverse("maskeditor:mask_upload", args=[photo.pk]),
        "required": service.mask == MaskUse.REQUIRED,
        "initialMask": initial.get_file_url() if initial else "",
    }
    return render(request, "maskeditor/editor.html", {**context, "masks": masks, "editor": editor})


@require_POST
def mask_upload(request: AuthedRequest, photo_id: uuid.UUID) -> JsonResponse:
    """The editor posts its export here (a file part, not base64 text); the answer names
    the stored version, which the order form then refers to."""
    photo = get_object_or_404(Photo.objects.for_user(request.user), pk=photo_id)
    upload = request.FILES.get("mask")
    if upload is None:
        return JsonResponse(
            {"error": "No mask was sent. Paint the area, then try again."}, status=400
        )
    try:
        mask = mask_accept(
            photo=photo, upload=upload, service=SERVICES.get(request.POST.get("service", ""))
        )
    except MaskRejected as rejected:
        return JsonResponse({"error": str(rejected)}, status=400)
    return JsonResponse(
        {"id": str(mask.pk), "version": mask.version, "url": mask.get_file_url()}, status=201
    )


@require_GET
def mask_file(request: AuthedRequest, pk: uuid.UUID) -> HttpResponseBase:
    mask = get_object_or_404(Mask.objects.for_user(request.user), pk=pk)
    # The editor paints a saved mask onto its canvas and exports it again: small, and
    # streamed from this origin even from a bucket.
    return serve_file(request, mask.file, etag=f"mask-{mask.pk}", same_origin=True)
