import uuid
from datetime import timedelta
from pathlib import PurePath

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from homedesign.accounts.credits import NotEnoughCredits
from homedesign.http import AuthedRequest
from homedesign.projects.images import CONTENT_TYPES, encode_full, load_upright
from homedesign.projects.models import Photo, Project
from homedesign.projects.services import decoding
from homedesign.projects.serving import serve_file
from maskeditor.masks import MaskRejected
from maskeditor.models import Mask
from maskeditor.services import mask_accept
from maskeditor.views import mask_editor

from . import lifecycle, services
from .catalog import SERVICES, MaskUse, Service, get_service
from .forms import options_from, order_form_class
from .models import Order, OrderResult, ShareLink
from .providers import availability

FILE_KINDS = ("full", "display", "thumbnail")


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


def _order_form(
    request: AuthedRequest, *, photo: Photo, service: str, parent: Order | None
) -> HttpResponse:
    info = get_service(service)
    form_class = order_form_class(info)
    initial = {**info.default_options(), **(parent.options if parent else {})}
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
            )
        except (MaskRejected, services.OrderRefused, NotEnoughCredits) as refused:
            form.add_error(None, str(refused))
        else:
            return redirect(order)
    context = {
        "photo": photo,
        "project": photo.project,
        "service": info,
        "availability": availability(info),
        "form": form,
        "parent": parent,
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


@require_GET
@vary_on_headers("HX-Request")
def order_detail(request: AuthedRequest, pk: uuid.UUID) -> HttpResponse:
    if request.htmx:
        # Polled every 2 s by every open order page: fetch the order alone; the photo and
        # project rows are needed only once it has finished.
        order = get_object_or_404(Order.objects.for_user(request.user), pk=pk)
    else:
        order = _order_for(request, pk)
    context = _order_context(order)
    if request.htmx:
        # On the last poll, the header's buttons and balance change too (out of band).
        context["oob"] = order.is_finished
        response = render(request, "orders/order_detail.html#order-status", context)
        if order.is_finished:
            # htmx 2 stops polling on 286; the fragment also comes without its trigger.
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "orders/order_detail.html", context)


def _order_context(order: Order) -> dict:
    queue_position = None
    if order.status == Order.Status.QUEUED:
        queue_position = Order.objects.filter(
            status=Order.Status.QUEUED, created_at__lte=order.created_at
        ).count()
    return {
        "order": order,
        # Shown, not acted on: the reaper recovers the order on its schedule.
        "stalled": lifecycle.order_is_stranded(order),
        "results": order.results.all(),
        "variations": order.variations.all(),
        "queue_position": queue_position,
        "share_links": order.share_links.all(),
    }


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
    orders = Order.objects.filter(photo__project=project).select_related("photo")
    return render(
        request,
        "orders/project_gallery.html",
        {
            "project": project,
            "groups": orders.prefetch_related("results").gallery_groups(),
            "share_links": project.share_links.all(),
            "pickable": OrderResult.objects.filter(
                order__photo__project=project, order__status=Order.Status.SUCCEEDED
            ).select_related("order"),
        },
    )


@require_GET
def result_file(request: AuthedRequest, pk: uuid.UUID, kind: str) -> HttpResponseBase:
    """A result's files: its owner, or staff allowed to view orders (admin previews)."""
    if kind not in FILE_KINDS:
        raise Http404
    results = OrderResult.objects.select_related("order__photo")
    if not request.user.has_perm("orders.view_order"):
        results = results.filter(order__owner=request.user)
    result = get_object_or_404(results, pk=pk)
    return serve_file(
        request,
        getattr(result, kind),
        etag=f"{result.pk}-{kind}",
        download_name=result.download_name if kind == "full" else None,
    )


@require_http_methods(["GET", "POST"])
def result_delete(request: AuthedRequest, pk: uuid.UUID) -> HttpResponse:
    result = get_object_or_404(
        OrderResult.objects.filter(order__owner=request.user).select_related("order__photo"),
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
    expires_at = timezone.now() + timedelta(days=int(days)) if days in ("1", "7", "30") else None
    link = services.share_link_create(
        owner=request.user,
        subject=subject,
        expires_at=expires_at,
        include_originals=request.POST.get("include_originals") == "on",
        result_ids=request.POST.getlist("results"),
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
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = link.subject_url
    return redirect(target)


def _link_by_token(token: str) -> ShareLink | None:
    return ShareLink.objects.filter(token=token).select_related("project", "order").first()


@login_not_required
@require_GET
def share_page(request: HttpRequest, token: str) -> HttpResponse:
    link = _link_by_token(token)
    if link is None or not link.is_live:
        response = render(request, "orders/share_unavailable.html", status=410 if link else 404)
    else:
        services.share_link_visit(link=link)
        context = {"link": link, "results": link.shared_results()}
        response = render(request, "orders/share_page.html", context)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_not_required
@require_GET
def share_file(request: HttpRequest, token: str, kind: str, pk: uuid.UUID) -> HttpResponseBase:
    """Files of a share page: results, the photo's display copy for "before", and a clean
    full-size copy of the photo when the owner allowed originals. Download names say
    nothing of the listing."""
    link = _link_by_token(token)
    if link is None or not link.is_live:
        raise Http404
    results = link.shared_results()
    if kind in FILE_KINDS:
        result = get_object_or_404(results, pk=pk)
        name = f"{result.order.service}-{result.index + 1}{PurePath(result.full.name).suffix}"
        return serve_file(
            request,
            getattr(result, kind),
            etag=f"{token[:8]}-{result.pk}-{kind}",
            download_name=name if kind == "full" else None,
        )
    shown_photos = Photo.objects.filter(orders__results__in=results).distinct()
    photo = get_object_or_404(shown_photos, pk=pk)
    if kind == "before":
        return serve_file(request, photo.display, etag=f"{token[:8]}-{photo.pk}-before")
    if kind == "original" and link.include_originals:
        # The owner's original keeps its GPS and maker notes; a visitor gets the pixels.
        with photo.original.open("rb") as file, decoding:
            data, extension = encode_full(load_upright(file))
        response = HttpResponse(data, content_type=CONTENT_TYPES[f".{extension}"])
        response["Content-Disposition"] = f'attachment; filename="photo.{extension}"'
        response["Cache-Control"] = "private, no-cache"
        return response
    raise Http404
