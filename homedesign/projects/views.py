import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from homedesign.http import AuthedRequest

from . import services
from .forms import ProjectForm
from .images import PhotoRejected
from .models import Photo, Project
from .serving import serve_file


def _project_for(request: AuthedRequest, pk: uuid.UUID) -> Project:
    return get_object_or_404(Project.objects.for_user(request.user), pk=pk)


def _photo_for(request: AuthedRequest, pk: uuid.UUID) -> Photo:
    return get_object_or_404(Photo.objects.for_user(request.user).select_related("project"), pk=pk)


@require_GET
def project_list(request: AuthedRequest) -> HttpResponse:
    projects = Project.objects.for_user(request.user).with_photo_summary()
    return render(request, "projects/project_list.html", {"projects": projects})


@require_http_methods(["GET", "POST"])
def project_create(request: AuthedRequest) -> HttpResponse:
    form = ProjectForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        project = form.save(commit=False)
        project.owner = request.user
        project.save()
        messages.success(request, f"Project “{project.name}” created. Now add its photos.")
        return redirect(project)
    return render(request, "projects/project_form.html", {"form": form})


@require_GET
@vary_on_headers("HX-Request")
def project_detail(request: AuthedRequest, pk: uuid.UUID) -> HttpResponse:
    project = _project_for(request, pk)
    context = {
        "project": project,
        "photos": project.photos.all(),
        "max_upload_bytes": settings.PHOTO_MAX_BYTES,
        "max_megapixels": settings.PHOTO_MAX_PIXELS // 1_000_000,
    }
    if request.htmx:
        return render(request, "projects/project_detail.html#photo-grid", context)
    return render(request, "projects/project_detail.html", context)


@require_http_methods(["GET", "POST"])
def project_edit(request: AuthedRequest, pk: uuid.UUID) -> HttpResponse:
    project = _project_for(request, pk)
    form = ProjectForm(request.POST if request.method == "POST" else None, instance=project)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Project saved.")
        return redirect(project)
    return render(request, "projects/project_form.html", {"form": form, "project": project})


@require_http_methods(["GET", "POST"])
def project_delete(request: AuthedRequest, pk: uuid.UUID) -> HttpResponse:
    project = _project_for(request, pk)
    if request.method == "POST":
        services.project_delete(project=project)
        messages.success(request, f"Project “{project.name}” and its photos were deleted.")
        return redirect("projects:project_list")
    return render(
        request,
        "projects/project_confirm_delete.html",
        {"project": project, "photo_count": project.photos.count()},
    )


@require_POST
def photo_upload(request: AuthedRequest, pk: uuid.UUID) -> HttpResponse:
    """Accepts one or many files. The page's script sends one file per request (for a
    progress bar each) and reads JSON; without JavaScript the form posts them all at once."""
    project = _project_for(request, pk)
    uploads = request.FILES.getlist("photos")
    wants_json = "application/json" in request.headers.get("Accept", "")
    if not uploads:
        message = "Choose one or more photos to upload."
        if wants_json:
            return JsonResponse({"error": message}, status=400)
        messages.error(request, message)
        return redirect(project)

    added, errors = [], []
    for upload in uploads:
        try:
            added.append(services.photo_add(project=project, upload=upload))
        except PhotoRejected as rejected:
            errors.append(str(rejected))

    if wants_json:
        photos = [_photo_json(photo) for photo in added]
        if errors:
            return JsonResponse({"error": " ".join(errors), "photos": photos}, status=400)
        return JsonResponse({"photos": photos}, status=201)
    if added:
        messages.success(request, f"{len(added)} photo{'s' if len(added) > 1 else ''} uploaded.")
    for error in errors:
        messages.error(request, error)
    return redirect(project)


def _photo_json(photo: Photo) -> dict:
    return {
        "id": str(photo.pk),
        "name": photo.original_name,
        "url": photo.get_absolute_url(),
        "thumbnail_url": photo.file_url("thumbnail"),
        "width": photo.width,
        "height": photo.height,
        "size": filesizeformat(photo.byte_size),
    }


@require_GET
def photo_detail(request: AuthedRequest, pk: uuid.UUID) -> HttpResponse:
    photo = _photo_for(request, pk)
    siblings = list(photo.project.photos.values_list("pk", flat=True))
    index = siblings.index(photo.pk)
    return render(
        request,
        "projects/photo_detail.html",
        {
            "photo": photo,
            "project": photo.project,
            "position": index + 1,
            "total": len(siblings),
            "order_count": photo.orders.count(),
            "previous_id": siblings[index - 1] if index > 0 else None,
            "next_id": siblings[index + 1] if index + 1 < len(siblings) else None,
        },
    )


@require_http_methods(["GET", "POST"])
def photo_delete(request: AuthedRequest, pk: uuid.UUID) -> HttpResponse:
    photo = _photo_for(request, pk)
    if request.method == "POST":
        services.photo_delete(photo=photo)
        messages.success(request, f"{photo.original_name} was deleted.")
        return redirect(photo.project)
    return render(request, "projects/photo_confirm_delete.html", {"photo": photo})


PHOTO_FILE_KINDS = ("original", "display", "thumbnail")


@login_not_required  # a visitor without a session gets the same 404 as anyone else
@require_GET
def photo_file(request: HttpRequest, pk: uuid.UUID, kind: str) -> HttpResponseBase:
    """The only way to a photo's files: its owner, or staff allowed to view photos."""
    if kind not in PHOTO_FILE_KINDS:
        raise Http404
    if request.user.has_perm("projects.view_photo"):
        photos = Photo.objects.all()
    else:
        photos = Photo.objects.for_user(request.user)
    photo = get_object_or_404(photos, pk=pk)
    name = photo.original_name if kind == "original" else None
    return serve_file(
        request, getattr(photo, kind), etag=f"{photo.sha256[:16]}-{kind}", download_name=name
    )
