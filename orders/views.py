import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePath

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db.models.fields.files import FieldFile
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from homedesign.accounts.credits import NotEnoughCredits
from homedesign.accounts.models import User
from homedesign.http import AuthedRequest
from homedesign.projects.models import Photo, Project
from homedesign.projects.serving import serve_file
from maskeditor.masks import MaskRejected
from maskeditor.models import Mask
from maskeditor.services import mask_accept
from maskeditor.views import mask_editor

from . import delivery, lifecycle, services
from .catalog import SERVICES, MaskUse, Service, describe_options, get_service
from .forms import LabelForm, ListingZipForm, batch_form_class, options_from, order_form_class
from .models import (
    Batch,
    ListingStyle,
    ListingZip,
    Order,
    OrderProgress,
    OrderResult,
    Rendition,
    Review,
    ShareLink,
)
from .providers import availability, offer

FILE_KINDS = ("full", "display", "thumbnail")
DELIVERED_KINDS = tuple(Rendition.Kind.values)
# What each delivered kind is called on buttons, and how its file name ends.
KIND_BUTTONS = {
    "full": ("Full size", ""),
    "full_white": ("JPEG on white", "-on-white"),
    "mls": ("MLS", "-mls"),
    "web": ("Web", "-web"),
}


@dataclass(frozen=True)
class Download:
    kind: str
    label: str
    url: str


@dataclass(frozen=True)
class Delivered:
    """A result as a page shows it: its caption, pictures and download buttons."""

    result: OrderResult
    before_url: str
    after_url: str
    downloads: list[Download]
    # The corner its pictures and downloads carry the disclosure label in ("" for none).
    label_corner: str = ""
    # The comparison's Before/After tags sit at the top, unless the page's labels are there
    # (the same for every result of a page, labelled or not, so the tags line up).
    tags_at_bottom: bool = False
    original_url: str = ""
    delete_url: str = ""
    review: Review | None = None  # on a review link, the visitor's latest answer

    @property
    def labelled(self) -> bool:
        return bool(self.label_corner)


def _labels_on_top(project: Project, mode: str = "") -> bool:
    """Whether the labels of a page of this listing (with a share link's `mode`) are in a
    top corner."""
    labelled = (mode or project.label_mode) != Project.LabelMode.OFF
    return labelled and project.label_corner.startswith("top")


def _owner_delivered(result: OrderResult, *, deletable: bool = True) -> Delivered:
    return Delivered(
        result=result,
        before_url=reverse("projects:photo_file", args=[result.order.photo_id, "display"]),
        after_url=reverse("orders:result_file", args=[result.pk, "display"]),
        downloads=[
            Download(
                kind,
                KIND_BUTTONS[kind][0],
                reverse("orders:result_download", args=[result.pk, kind]),
            )
            for kind in delivery.result_kinds(result)
        ],
        delete_url=reverse("orders:result_delete", args=[result.pk]) if deletable else "",
        label_corner=delivery.label_corner(result, result.order.photo.project),
        tags_at_bottom=_labels_on_top(result.order.photo.project),
    )


def _download_name(result: OrderResult, kind: str, rendition: Rendition) -> str:
    return f"{result.download_stem}{KIND_BUTTONS[kind][1]}.{rendition.extension}"


SHARE_EXPIRY_DAYS = ("", "1", "7", "30")  # what the share form offers ("": never)
# A waiting order says how many are ahead of it up to this many, then "more than".
QUEUE_AHEAD_SHOWN = 50


def _photo_for(request: AuthedRequest, pk: uuid.UUID) -> Photo:
    return get_object_or_404(Photo.objects.for_user(request.user).select_related("project"), pk=pk)


def _order_for(request: AuthedRequest, pk: uuid.UUID) -> Order:
    orders = Order.objects.for_user(request.user).select_related("photo__project")
    return get_object_or_404(orders, pk=pk)


@require_GET
def order_services(request: AuthedRequest, photo_id: uuid.UUID) -> HttpResponse:
    photo = _photo_for(request, photo_id)
    cards = [(service, availability(service)) for service in SERVICES.values()]
    return render(
        request,
        "orders/order_services.html",
        {"photo": photo, "project": photo.project, "cards": cards},
    )


@require_http_methods(["GET", "POST"])
def order_create(request: AuthedRequest, photo_id: uuid.UUID, service: str) -> HttpResponse:
    photo = _photo_for(request, photo_id)
    if service not in SERVICES:
        raise Http404
    return _order_form(request, photo=photo, service=service, parent=None)


@require_http_methods(["GET", "POST"])
def order_variation(request: AuthedRequest, pk: uuid.UUID) -> HttpResponse:
    parent = _order_for(request, pk)
    if not parent.service_info.variations:
        raise Http404
    return _order_form(request, photo=parent.photo, service=parent.service, parent=parent)


def _answered_review(request: AuthedRequest, photo: Photo) -> Review | None:
    """The seller's change request a variation answers (`?answers=`), if any."""
    review_id = _uuid_or_none(request.GET.get("answers"))
    if review_id is None:
        return None
    reviews = Review.objects.for_user(request.user).select_related("result__order")
    return reviews.filter(pk=review_id, result__order__photo=photo).first()


def _order_form(
    request: AuthedRequest, *, photo: Photo, service: str, parent: Order | None
) -> HttpResponse:
    info = get_service(service)
    form_class = order_form_class(info)
    batch = _painting_batch(request, photo, service)
    answers = _answered_review(request, photo) if parent else None
    style = ListingStyle.objects.filter(project=photo.project_id).first()
    offered = offer(info, photo)
    initial = {
        **info.default_options(),
        **offered.initial,
        **(style.options_for(photo.pk) if style else {}),  # so a listing's rooms match
        **(batch.options if batch else {}),
        **(parent.options if parent else {}),
    }
    if parent and parent.mask_id and info.mask != MaskUse.NONE:
        # A variation starts from the parent's painting; the agent may repaint it.
        initial["mask_id"] = parent.mask_id
    if request.method == "POST":
        form = form_class(request.POST, request.FILES, initial=initial)
    else:
        form = form_class(initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            order = services.order_place(
                user=request.user,
                photo=photo,
                service=service,
                options=options_from(form, info),
                mask=_painted_mask(request, form, photo, info),
                parent=parent,
                batch=batch,
                answers=answers,
            )
        except (MaskRejected, services.OrderRefused, NotEnoughCredits) as refused:
            form.add_error(None, str(refused))
        else:
            return redirect(_batch_next(batch) if batch else order)
    context = {
        "photo": photo,
        "project": photo.project,
        "service": info,
        "availability": availability(info),
        "offer_notes": offered.notes,
        "form": form,
        "parent": parent,
        "batch": batch,
        "answers": answers,
        # Said on the form when the listing's style chose its starting options.
        "listing_style": style if style and "style" in info.option_names else None,
    }
    if info.mask == MaskUse.NONE:
        return render(request, "orders/order_form.html", context)
    return mask_editor(request, photo=photo, service=info, form=form, context=context)


def _painted_mask(
    request: AuthedRequest, form: forms.Form, photo: Photo, service: Service
) -> Mask | None:
    """The mask version of the order: one the editor stored, or an uploaded file stored as
    a new version (so it can be reused too). order_place checks it fits the order."""
    if form.cleaned_data.get("mask_id"):
        mask = Mask.objects.for_user(request.user).filter(pk=form.cleaned_data["mask_id"]).first()
        if mask is None:
            raise MaskRejected("That mask is not one of yours. Paint it again.")
        return mask
    if form.cleaned_data.get("mask"):
        return mask_accept(photo=photo, upload=form.cleaned_data["mask"], service=service)
    return None


def _painting_batch(request: AuthedRequest, photo: Photo, service: str) -> Batch | None:
    """The listing order this form paints the next photo of (`?batch=`), if any."""
    batch_id = _uuid_or_none(request.GET.get("batch"))
    if batch_id is None:
        return None
    batches = Batch.objects.for_user(request.user).filter(pk=batch_id, service=service)
    found = batches.filter(project=photo.project_id).first()
    return found if found and str(photo.pk) in found.photos_to_paint else None


def _batch_next(batch: Batch) -> str:
    """The editor of the batch's next photo to paint, or the batch once all are done."""
    photo = services.batch_next_to_paint(batch)
    if photo is None:
        return batch.get_absolute_url()
    url = reverse("orders:order_create", args=[photo.pk, batch.service])
    return f"{url}?batch={batch.pk}"


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value or "")
    except ValueError:
        return None


@require_GET
def batch_services(request: AuthedRequest, project_id: uuid.UUID) -> HttpResponse:
    project = get_object_or_404(Project.objects.for_user(request.user), pk=project_id)
    cards = [(service, availability(service)) for service in SERVICES.values()]
    context = {"project": project, "cards": cards, "photo_count": project.photos.count()}
    return render(request, "orders/batch_services.html", context)


@require_http_methods(["GET", "POST"])
def batch_create(request: AuthedRequest, project_id: uuid.UUID, service: str) -> HttpResponse:
    project = get_object_or_404(Project.objects.for_user(request.user), pk=project_id)
    if service not in SERVICES:
        raise Http404
    info = get_service(service)
    photos = list(project.photos.all())
    style = ListingStyle.objects.filter(project=project).first()
    initial: dict[str, object] = {
        **info.default_options(),
        **(style.options_for(None) if style else {}),
        "photos": [str(photo.pk) for photo in photos],
    }
    for photo in photos:
        if style and str(photo.pk) in style.room_types:
            initial[f"room_{photo.pk}"] = style.room_types[str(photo.pk)]
    form_class = batch_form_class(info, photos)
    form = form_class(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        chosen = [photo for photo in photos if str(photo.pk) in form.cleaned_data["photos"]]
        try:
            batch = services.batch_place(
                user=request.user,
                project=project,
                photos=chosen,
                service=service,
                options={k: v for k, v in form.cleaned_data.items() if k in info.option_names},
                room_types={
                    str(photo.pk): form.cleaned_data[f"room_{photo.pk}"]
                    for photo in chosen
                    if f"room_{photo.pk}" in form.cleaned_data
                },
            )
        except (services.OrderRefused, NotEnoughCredits) as refused:
            form.add_error(None, str(refused))
        else:
            return redirect(_batch_next(batch) if batch.photos_to_paint else batch)
    context = {
        "project": project,
        "service": info,
        "availability": availability(info),
        "form": form,
        "photo_rows": [
            (photo, box, form[f"room_{photo.pk}"] if f"room_{photo.pk}" in form.fields else None)
            for photo, box in zip(photos, form["photos"].subwidgets, strict=True)
        ],
        "option_fields": [
            form[name] for name in form.fields if name != "photos" and not name.startswith("room_")
        ],
    }
    return render(request, "orders/batch_form.html", context)


@require_GET
@vary_on_headers("HX-Request")
def batch_detail(request: AuthedRequest, pk: uuid.UUID) -> HttpResponse:
    """Every order of a listing order, polled with one request for all of them."""
    batch = get_object_or_404(Batch.objects.for_user(request.user).select_related("project"), pk=pk)
    orders = list(
        batch.orders.select_related("photo")
        .prefetch_related("results")
        .order_by("photo__uploaded_at")
    )
    finished = all(order.is_finished for order in orders) and not batch.photos_to_paint
    counts = Counter(order.status for order in orders)
    context = {
        "batch": batch,
        "project": batch.project,
        "orders": orders,
        "finished": finished,
        "done": counts[Order.Status.SUCCEEDED],
        "failed": counts[Order.Status.FAILED] + counts[Order.Status.CANCELLED],
        "charged": sum(order.credits_charged for order in orders),
        "refunded": sum(order.credits_refunded for order in orders),
        "next_to_paint": _batch_next(batch) if batch.photos_to_paint else "",
        "batch_options": describe_options(batch.service_info, batch.options),
    }
    if request.htmx:
        response = render(request, "orders/batch_detail.html#batch-status", context)
        if finished:
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "orders/batch_detail.html", context)


@require_POST
def batch_skip(request: AuthedRequest, pk: uuid.UUID, photo_id: uuid.UUID) -> HttpResponse:
    batch = get_object_or_404(Batch.objects.for_user(request.user), pk=pk)
    photo = get_object_or_404(Photo.objects.for_user(request.user), pk=photo_id)
    services.batch_skip(batch, photo)
    return redirect(_batch_next(batch))


@require_GET
@vary_on_headers("HX-Request")
def order_detail(request: AuthedRequest, pk: uuid.UUID) -> HttpResponse:
    if request.htmx:
        return _order_status(request, pk)
    orders = Order.objects.for_user(request.user).with_queue_ahead(up_to=QUEUE_AHEAD_SHOWN)
    order = get_object_or_404(orders.select_related("photo__project"), pk=pk)
    context = {
        **_status_context(order),
        "results": _results_of(order) if order.status == Order.Status.SUCCEEDED else [],
        "share_links": order.share_links.all(),
        "variations": order.variations.all(),
    }
    return render(request, "orders/order_detail.html", context)


def _order_status(request: AuthedRequest, pk: uuid.UUID) -> HttpResponse:
    """The status fragment, polled every 2 s by every open order page: two queries (the
    user; the order's progress and place in the queue) until the last poll, which swaps in
    the results, the share links and the header's buttons (three more, once per page)."""
    progress = Order.objects.progress_of(user=request.user, pk=pk, queue_up_to=QUEUE_AHEAD_SHOWN)
    if progress is None:
        raise Http404
    if not progress.is_finished:
        context = {**_status_context(progress), "oob": False}
        return render(request, "orders/order_detail.html#order-status", context)
    order = _order_for(request, pk)
    context = _status_context(order)
    if order.status == Order.Status.SUCCEEDED:
        context["results"] = _results_of(order)
        context["share_links"] = order.share_links.all()
    # The header's buttons and balance change too (out of band).
    context["oob"] = True
    response = render(request, "orders/order_detail.html#order-status", context)
    # htmx 2 stops polling on 286; the fragment also comes without its trigger.
    response.status_code = HttpResponseStopPolling.status_code
    return response


def _status_context(order: Order | OrderProgress) -> dict:
    return {
        "order": order,
        # Shown, not acted on: the reaper recovers the order on its schedule.
        "stalled": lifecycle.order_is_stranded(order),
        "queue_ahead_shown": QUEUE_AHEAD_SHOWN,
    }


def _results_of(order: Order) -> list[Delivered]:
    results = order.results.select_related("order__photo__project")
    return [_owner_delivered(result) for result in results]


@require_POST
def order_cancel(request: AuthedRequest, pk: uuid.UUID) -> HttpResponse:
    order = _order_for(request, pk)
    if lifecycle.order_cancel(order):
        refunded = order.credits_refunded
        messages.success(
            request, f"Order cancelled; {refunded} credit{pluralize(refunded)} refunded."
        )
    else:
        messages.error(request, "This order has already started and can no longer be cancelled.")
    return redirect(order)


@require_GET
def photo_gallery(request: AuthedRequest, photo_id: uuid.UUID) -> HttpResponse:
    photo = _photo_for(request, photo_id)
    groups = photo.orders.prefetch_related("results", "variations").gallery_groups()
    return render(
        request,
        "orders/photo_gallery.html",
        {"photo": photo, "project": photo.project, "groups": groups},
    )


@require_GET
def project_gallery(request: AuthedRequest, project_id: uuid.UUID) -> HttpResponse:
    project = get_object_or_404(Project.objects.for_user(request.user), pk=project_id)
    return render(request, "orders/project_gallery.html", _gallery_context(project))


def _gallery_context(
    project: Project, *, label_form: LabelForm | None = None, zip_form: ListingZipForm | None = None
) -> dict:
    orders = Order.objects.filter(photo__project=project).select_related("photo")
    pickable = OrderResult.objects.filter(
        order__photo__project=project, order__status=Order.Status.SUCCEEDED
    ).select_related("order__photo")
    return {
        "project": project,
        "groups": orders.prefetch_related("results").gallery_groups(),
        "share_links": project.share_links.all(),
        "pickable": pickable,
        "label_form": label_form or LabelForm(instance=project),
        "zip_form": zip_form or ListingZipForm(),
        "zips": project.listing_zips.all()[:1],
        "reviews": _reviews_of(project.owner, result__order__photo__project=project),
    }


@require_POST
def project_label(request: AuthedRequest, project_id: uuid.UUID) -> HttpResponse:
    """The listing's disclosure label: on or off, and its corner; remembered per listing."""
    project = get_object_or_404(Project.objects.for_user(request.user), pk=project_id)
    form = LabelForm(request.POST, instance=Project.objects.get(pk=project.pk))
    if not form.is_valid():
        context = _gallery_context(project, label_form=form)
        return render(request, "orders/project_gallery.html", context, status=400)
    services.project_label_set(
        project=project,
        mode=form.cleaned_data["label_mode"],
        corner=form.cleaned_data["label_corner"],
    )
    messages.success(
        request, "Disclosure label saved. Downloads and share pages use it within a minute."
    )
    return redirect(reverse("orders:project_gallery", args=[project.pk]) + "#delivery")


@require_POST
def listing_zip_create(request: AuthedRequest, project_id: uuid.UUID) -> HttpResponse:
    project = get_object_or_404(Project.objects.for_user(request.user), pk=project_id)
    form = ListingZipForm(request.POST)
    result_ids = request.POST.getlist("results")
    if not form.is_valid() or not result_ids:
        if form.is_valid():
            form.add_error(None, "Tick at least one result to put in the ZIP.")
        context = _gallery_context(project, zip_form=form)
        return render(request, "orders/project_gallery.html", context, status=400)
    archive = services.listing_zip_create(
        owner=request.user,
        project=project,
        result_ids=result_ids,
        size=form.cleaned_data["size"],
        include_originals=form.cleaned_data["include_originals"],
    )
    return redirect(archive)


@require_GET
@vary_on_headers("HX-Request")
def listing_zip_detail(request: AuthedRequest, pk: uuid.UUID) -> HttpResponse:
    archive = get_object_or_404(
        ListingZip.objects.for_user(request.user).select_related("project"), pk=pk
    )
    context = {"archive": archive, "project": archive.project, "count": archive.results.count()}
    if request.htmx:
        response = render(request, "orders/listing_zip_detail.html#zip-status", context)
        if archive.is_finished:
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "orders/listing_zip_detail.html", context)


@require_GET
def listing_zip_file(request: AuthedRequest, pk: uuid.UUID) -> HttpResponseBase:
    archive = get_object_or_404(
        ListingZip.objects.for_user(request.user).select_related("project"),
        pk=pk,
        status=ListingZip.Status.READY,
    )
    # Streamed from storage in chunks by FileResponse: a ZIP of gigabytes costs no memory.
    return serve_file(
        request,
        archive.file,
        etag=f"zip-{archive.pk}",
        download_name=archive.download_name,
        attachment=True,
    )


@require_GET
def result_file(request: AuthedRequest, pk: uuid.UUID, kind: str) -> HttpResponseBase:
    """A result's files: its owner, or staff allowed to view orders (admin previews)."""
    if kind not in FILE_KINDS:
        raise Http404
    results = OrderResult.objects.select_related("order__photo__project")
    if not request.user.has_perm("orders.view_order"):
        results = results.filter(order__owner=request.user)
    result = get_object_or_404(results, pk=pk)
    if kind == "display":
        field, version = _after_picture(result)
        return serve_file(request, field, etag=f"{result.pk}-{version}")
    return serve_file(
        request,
        getattr(result, kind),
        etag=f"{result.pk}-{kind}",
        download_name=f"{result.download_stem}{PurePath(str(result.full.name)).suffix}"
        if kind == "full"
        else None,
    )


def _after_picture(result: OrderResult, *, label_mode: str = "") -> tuple[FieldFile, str]:
    """The "after" of a comparison as the seller will see it: the web size with the
    listing's (or the share link's) disclosure label, once the worker made it (until then
    the display copy); with its version, for the ETag."""
    web = delivery.rendition_for(result, "web", result.order.photo.project, mode=label_mode)
    return (web.file, f"display-{web.pk}") if web else (result.display, "display-0")


@require_GET
def result_download(request: AuthedRequest, pk: uuid.UUID, kind: str) -> HttpResponseBase:
    """A result as delivered (a size, its metadata, the listing's label), as an attachment."""
    if kind not in DELIVERED_KINDS:
        raise Http404
    result = get_object_or_404(
        OrderResult.objects.filter(order__owner=request.user).select_related(
            "order__photo__project"
        ),
        pk=pk,
    )
    if kind not in delivery.result_kinds(result):
        raise Http404
    rendition = delivery.rendition_for(result, kind, result.order.photo.project)
    if rendition is None:
        # Made when the order finished, or when the label last changed: the worker is
        # still on it (or lost it: ask it again).
        services.results_deliver_later(result_ids=[str(result.pk)])
        return _preparing(request)
    return serve_file(
        request,
        rendition.file,
        etag=f"{rendition.pk}-{kind}",
        download_name=_download_name(result, kind, rendition),
        attachment=True,
    )


def _preparing(request: HttpRequest) -> HttpResponse:
    response = render(request, "orders/delivery_preparing.html", status=503)
    response["Retry-After"] = "15"
    return response


@require_http_methods(["GET", "POST"])
def result_delete(request: AuthedRequest, pk: uuid.UUID) -> HttpResponse:
    result = get_object_or_404(
        OrderResult.objects.filter(order__owner=request.user).select_related(
            "order__photo__project"
        ),
        pk=pk,
    )
    if request.method == "POST":
        services.result_delete(result=result)
        messages.success(request, "Result deleted.")
        return redirect(result.order)
    return render(request, "orders/result_confirm_delete.html", {"result": result})


@require_POST
def share_create(request: AuthedRequest, kind: str, pk: uuid.UUID) -> HttpResponse:
    subject: Order | Project
    if kind == "order":
        subject = _order_for(request, pk)
    elif kind == "project":
        subject = get_object_or_404(Project.objects.for_user(request.user), pk=pk)
    else:
        raise Http404
    days = request.POST.get("expires_in_days", "")
    label_mode = request.POST.get("label_mode", "")
    if days not in SHARE_EXPIRY_DAYS:
        messages.error(request, "Choose when the link expires from the list; no link was made.")
        return redirect(_safe_next(request) or subject.get_absolute_url())
    if label_mode not in ShareLink.Label.values:
        messages.error(request, "Choose the label from the list; no link was made.")
        return redirect(_safe_next(request) or subject.get_absolute_url())
    expires_at = timezone.now() + timedelta(days=int(days)) if days else None
    link = services.share_link_create(
        owner=request.user,
        subject=subject,
        expires_at=expires_at,
        include_originals=request.POST.get("include_originals") == "on",
        result_ids=request.POST.getlist("results"),
        for_review=request.POST.get("for_review") == "on",
        allow_downloads=request.POST.get("allow_downloads") == "on",
        show_address=request.POST.get("show_address") == "on",
        label_mode=label_mode,
    )
    messages.success(request, "Share link created. Anyone with the link can see these results.")
    return _back(request, link)


@require_POST
def share_revoke(request: AuthedRequest, pk: uuid.UUID) -> HttpResponse:
    link = get_object_or_404(ShareLink.objects.for_user(request.user), pk=pk)
    services.share_link_revoke(link=link)
    messages.success(request, "Share link revoked: it no longer shows anything.")
    return _back(request, link)


def _back(request: AuthedRequest, link: ShareLink) -> HttpResponse:
    """To the page the form was on, if it is one of ours."""
    return redirect(_safe_next(request) or link.subject_url)


def _safe_next(request: AuthedRequest) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return ""


def _link_by_token(token: str) -> ShareLink | None:
    return ShareLink.objects.select_related("project", "order", "owner").by_token(token)


@login_not_required
@require_GET
def share_page(request: HttpRequest, token: str) -> HttpResponse:
    link = _link_by_token(token)
    if link is None or not link.is_live:
        response = render(request, "orders/share_unavailable.html", status=410 if link else 404)
    else:
        services.share_link_visit(link=link)
        results = link.shared_results().select_related("order__photo__project")
        project = link.project or link.subject.photo.project  # type: ignore[union-attr]
        reviews = _latest_reviews(link) if link.for_review else {}
        items = [
            _shared_delivered(link, token, result, review=reviews.get(result.pk))
            for result in results
        ]
        context = {
            "link": link,
            "token": token,
            "project": project,
            "agent": link.owner,
            "results": items,
            "any_labelled": any(item.labelled for item in items),
            "comment_max": Review.COMMENT_MAX_LENGTH,
        }
        response = render(request, "orders/share_page.html", context)
    response["X-Robots-Tag"] = "noindex, nofollow"
    # Never to another site (the URL is the secret); same-origin so the review forms' POSTs
    # carry a real Origin (with no-referrer, browsers send "Origin: null" and CSRF fails).
    response["Referrer-Policy"] = "same-origin"
    return response


def _shared_delivered(
    link: ShareLink, token: str, result: OrderResult, *, review: Review | None = None
) -> Delivered:
    def url(kind: str, pk: uuid.UUID) -> str:
        return reverse("orders:share_file", args=[token, kind, pk])

    downloads = (
        [Download(k, KIND_BUTTONS[k][0], url(k, result.pk)) for k in delivery.result_kinds(result)]
        if link.allow_downloads
        else []
    )
    return Delivered(
        result=result,
        before_url=url("before", result.order.photo_id),
        after_url=url("display", result.pk),
        downloads=downloads,
        original_url=url("original", result.order.photo_id) if link.include_originals else "",
        review=review,
        label_corner=delivery.label_corner(
            result, result.order.photo.project, mode=link.label_mode
        ),
        tags_at_bottom=_labels_on_top(result.order.photo.project, link.label_mode),
    )


@login_not_required
@require_GET
def share_file(request: HttpRequest, token: str, kind: str, pk: uuid.UUID) -> HttpResponseBase:
    """Files of a share page: results as delivered (sizes, metadata, the listing's label),
    the photo's display copy for "before", and a clean full-size copy of the photo when
    the owner allowed originals. Download names say nothing of the listing."""
    link = _link_by_token(token)
    if link is None or not link.is_live:
        raise Http404
    results = link.shared_results().select_related("order__photo__project")
    if kind in ("display", "thumbnail"):
        result = get_object_or_404(results, pk=pk)
        if kind == "display":
            field, version = _after_picture(result, label_mode=link.label_mode)
            return _unindexed(
                _shared_file(request, field, etag=f"{token[:8]}-{result.pk}-{version}")
            )
        tag = f"{token[:8]}-{result.pk}-{kind}"
        return _unindexed(_shared_file(request, result.thumbnail, etag=tag))
    if kind in DELIVERED_KINDS:
        if not link.allow_downloads:
            raise Http404
        result = get_object_or_404(results, pk=pk)
        if kind not in delivery.result_kinds(result):
            raise Http404
        project = result.order.photo.project
        rendition = delivery.rendition_for(result, kind, project, mode=link.label_mode)
        if rendition is None:
            return _unindexed(_preparing(request))
        name = f"{result.order.service}-{result.index + 1}{KIND_BUTTONS[kind][1]}"
        return _unindexed(
            _shared_file(
                request,
                rendition.file,
                etag=f"{token[:8]}-{rendition.pk}",
                download_name=f"{name}.{rendition.extension}",
            )
        )
    photo = get_object_or_404(link.shared_photos(), pk=pk)
    if kind == "before":
        response = _shared_file(request, photo.display, etag=f"{token[:8]}-{photo.pk}-before")
    elif kind == "original" and link.include_originals:
        # The owner's original keeps its GPS and maker notes; a visitor gets the pixels,
        # in the copy the worker made when the link was created.
        if not photo.shared_copy:
            response = HttpResponse(
                "The original is still being prepared; try again in a minute.",
                status=503,
                content_type="text/plain; charset=utf-8",
            )
            response["Retry-After"] = "30"
        else:
            response = _shared_file(
                request,
                photo.shared_copy,
                etag=f"{token[:8]}-{photo.pk}-original",
                download_name=f"photo{PurePath(str(photo.shared_copy.name)).suffix}",
            )
    else:
        raise Http404
    return _unindexed(response)


@login_not_required
@require_GET
def share_logo(request: HttpRequest, token: str) -> HttpResponseBase:
    """The logo of the agent who shared this link: only theirs, only while it is live."""
    link = _link_by_token(token)
    if link is None or not link.is_live or not link.owner.logo:
        raise Http404
    logo = link.owner.logo
    return _unindexed(_shared_file(request, logo, etag=f"{token[:8]}-logo-{logo.name}"))


@require_GET
def review_list(request: AuthedRequest) -> HttpResponse:
    return render(request, "orders/review_list.html", {"reviews": _reviews_of(request.user)})


def _reviews_of(user: User, **filters: object) -> list[Review]:
    """The agent's sellers' answers, change requests waiting first."""
    reviews = Review.objects.for_user(user).filter(**filters)
    reviews = reviews.select_related("result__order__photo__project", "answered_by")
    return sorted(
        reviews,
        key=lambda review: (not review.is_waiting, -review.created_at.timestamp()),
    )


def _latest_reviews(link: ShareLink) -> dict[uuid.UUID, Review]:
    """The review that stands for each result: the visitor's latest."""
    latest: dict[uuid.UUID, Review] = {}
    for review in link.reviews.order_by("created_at"):
        latest[review.result_id] = review
    return latest


@login_not_required  # the seller has no account; the token is the key
@require_POST
def share_review(request: HttpRequest, token: str) -> HttpResponse:
    link = _link_by_token(token)
    if link is None:
        raise Http404
    result_id = request.POST.get("result", "")
    try:
        services.review_submit(
            link=link,
            result_id=result_id,
            verdict=request.POST.get("verdict", ""),
            comment=request.POST.get("comment", ""),
        )
    except services.ReviewRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "Thank you: the agent sees your answer.")
    return redirect(f"{reverse('orders:share_page', args=[token])}#result-{result_id}")


def _shared_file(
    request: HttpRequest, field: FieldFile, *, etag: str, download_name: str | None = None
) -> HttpResponseBase:
    """A share page's file: downloads are attachments; from a bucket, the signed URL has
    the share pages' own (short) expiry, so a revoked link stops working soon after."""
    return serve_file(
        request,
        field,
        etag=etag,
        download_name=download_name,
        attachment=bool(download_name),
        seconds=settings.SHARE_FILE_URL_SECONDS,
    )


def _unindexed(response: HttpResponseBase) -> HttpResponseBase:
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
