from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET, require_POST

from homedesign.projects.models import Photo
from homedesign.projects.serving import serve_file
from orders.catalog import SERVICES

from .masks import MaskRejected, check_coverage, read_mask
from .models import Mask
from .services import mask_save


@require_POST
def mask_upload(request: HttpRequest, photo_id) -> JsonResponse:
    """The editor posts its export here (a file part, not base64 text); the answer names
    the stored version, which the order form then refers to."""
    photo = get_object_or_404(Photo.objects.for_user(request.user), pk=photo_id)
    upload = request.FILES.get("mask")
    if upload is None:
        return JsonResponse(
            {"error": "No mask was sent. Paint the area, then try again."}, status=400
        )
    service = SERVICES.get(request.POST.get("service", ""))
    try:
        painted = read_mask(upload, size=(photo.width, photo.height))
        if service:  # refuse before storing what the order would refuse anyway
            check_coverage(float(painted.mean()), at_most=service.max_mask_share)
    except MaskRejected as rejected:
        return JsonResponse({"error": str(rejected)}, status=400)
    mask = mask_save(photo=photo, painted=painted)
    return JsonResponse(
        {"id": str(mask.pk), "version": mask.version, "url": mask.get_file_url()}, status=201
    )


@require_GET
def mask_file(request: HttpRequest, pk) -> HttpResponse:
    mask = get_object_or_404(Mask.objects.for_user(request.user), pk=pk)
    return serve_file(request, mask.file, etag=f"mask-{mask.pk}")
