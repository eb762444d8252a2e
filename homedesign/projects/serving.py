"""Handing stored files to someone a view has already allowed to see them."""

from pathlib import PurePath

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponseNotModified
from django.http.response import HttpResponseBase

from .images import CONTENT_TYPES


def serve_file(
    request: HttpRequest, field: FieldFile, *, etag: str, download_name: str | None = None
) -> HttpResponseBase:
    """Files never change under their URL, but access does (logout, deletion, a revoked
    link): browsers may keep a copy yet must ask each time, and get a 304 while access
    holds. With a download name, `?download` makes it an attachment."""
    etag = f'"{etag}"'
    response: HttpResponseBase
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        try:
            file = field.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        response = FileResponse(
            file,
            content_type=CONTENT_TYPES[PurePath(str(field.name)).suffix],
            as_attachment=bool(download_name) and "download" in request.GET,
            filename=download_name or "",
        )
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response
