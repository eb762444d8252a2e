"""Handing stored files to someone a view has already allowed to see them."""

from pathlib import PurePath

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage
from django.db.models.fields.files import FieldFile
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponseNotModified,
    HttpResponseRedirect,
)
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

from .images import CONTENT_TYPES


def storage_is_local(storage: Storage) -> bool:
    """Files on this machine's disk; otherwise in a bucket other machines share."""
    return isinstance(storage, FileSystemStorage)


def serve_file(
    request: HttpRequest,
    field: FieldFile,
    *,
    etag: str,
    download_name: str | None = None,
    attachment: bool = False,
    seconds: int | None = None,
    same_origin: bool = False,
) -> HttpResponseBase:
    """Files never change under their URL, but access does (logout, deletion, a revoked
    link): browsers may keep a copy yet must ask each time, and get a 304 while access
    holds. With a download name, `?download` (or `attachment`) makes it an attachment.

    From a bucket the bytes do not pass through here: the answer is a redirect to a URL
    signed for `seconds` (STORAGE_URL_SECONDS by default), made after the caller checked
    access, so a revoked link or a logout stops working once that short while is over.
    `same_origin` files are streamed from here all the same: a page script must read their
    pixels (a canvas refuses to export what it drew from another origin)."""
    as_attachment = bool(download_name) and (attachment or "download" in request.GET)
    content_type = CONTENT_TYPES.get(PurePath(str(field.name)).suffix, "application/octet-stream")
    if not storage_is_local(field.storage) and not same_origin:
        return signed_redirect(
            field.storage,
            str(field.name),
            content_type=content_type,
            disposition=content_disposition_header(as_attachment, download_name or "") or "",
            seconds=seconds or settings.STORAGE_URL_SECONDS,
        )
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
            content_type=content_type,
            as_attachment=as_attachment,
            filename=download_name or "",
        )
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


def signed_redirect(
    storage: Storage, name: str, *, content_type: str, disposition: str = "", seconds: int
) -> HttpResponseRedirect:
    """A redirect to a bucket's file by a URL signed for `seconds`, which answers with
    this type (and disposition)."""
    parameters = {
        "ResponseContentType": content_type,
        "ResponseCacheControl": f"private, max-age={seconds}",
    }
    if disposition:
        parameters["ResponseContentDisposition"] = disposition
    url = storage.url(name, parameters=parameters, expire=seconds)  # type: ignore[call-arg]
    response = HttpResponseRedirect(url)
    # The signed URL is personal and short-lived: no cache may keep the redirect.
    response["Cache-Control"] = "private, no-store"
    return response
