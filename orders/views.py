from datetime import timedelta
from pathlib import PurePath

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from homedesign.accounts.credits import NotEnoughCredits
from homedesign.projects.images import CONTENT_TYPES, encode_full, load_upright
from homedesign.projects.models import Photo, Project
from homedesign.projects.services import decoding
from homedesign.projects.serving import serve_file
from maskeditor.masks import MaskRejected, read_mask
from maskeditor.models import Mask
from maskeditor.services import mask_save

from . import lifecycle, services
from .catalog import SERVICES, MaskUse, get_service
from .forms import options_from, order_form_class
from .models import Order, OrderResult, ShareLink
from .providers import availability, offer

FILE_KINDS = ("full", "display", "thumbnail")


def _photo_for(request: HttpRequest, pk) -> Photo:
    return get_object_or_404(Photo.objects.for_user(request.user).select_related("project"), pk=pk)


def _order_for(request: HttpRequest, pk) -> Order:
    orders = Order.objects.for_user(request.user).select_related("photo__project")
    return get_object_or_404(orders, pk=pk)


@require_GET
def order_services(request: HttpRequest, photo_id) -> HttpResponse:
    photo = _photo_for(request, photo_id)
    cards = [(service, availability(service)) for service in SERVICES.values()]
    return render(
        request,
        "orders/order_services.html",
        {"photo": photo, "project": photo.project, "cards": cards},
    )


@require_http_methods(["GET", "POST"])
def order_create(request: HttpRequest, photo_id, service: str) -> HttpResponse:
    photo = _photo_for(request, photo_id)
    if service not in SERVICES:
        raise Http404
    return _order_form(request, photo=photo, service=service, parent=None)


@require_http_methods(["GET", "POST"])
def order_variation(request: HttpRequest, pk) -> HttpResponse:
    parent = _order_for(request, pk)
    if not parent.service_info.variations:
        raise Http404
    return _order_form(request, photo=parent.photo, service=parent.service, parent=parent)


def _order_form(request: HttpRequest, *, photo: Photo, service: str, parent: Order | None):
    info = get_service(service)
    form_class = order_form_class(info)
    offered = offer(info, photo)
    initial = {**info.default_options(), **offered.initial, **(parent.options if parent else {})}
    data = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    form = form_class(*data, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            mask = _painted_mask(form, photo)
            order = lifecycle.order_place(
                user=request.user,
                photo=photo,
                service=service,
                options=options_from(form, info),
                mask=mask,
                parent=parent,
            )
        except MaskRejected as rejected:
            form.add_error(None, str(rejected))
        except (lifecycle.OrderRefused, NotEnoughCredits) as refused:
            form.add_error(None, str(refused))
        else:
            return redirect(order)
    context = {
        "photo": photo,
        "project": photo.project,
        "service": info,
        "availability": availability(info),
        "offer_notes": offered.notes,
        "form": form,
        "parent": parent,
    }
    if info.mask == MaskUse.NONE:
        return render(request, "orders/order_form.html", context)
    masks = photo.masks.all()
    posted = getattr(form, "cleaned_data", {}).get("mask_id")
    initial = next((m for m in masks if m.pk == posted), None)
    context["masks"] = masks
    context["editor"] = {
        "width": photo.width,
        "height": photo.height,
        "service": service,
        "uploadUrl": reverse("maskeditor:mask_upload", args=[photo.pk]),
        "required": info.mask == MaskUse.REQUIRED,
        # An order refused after painting (credits, say) comes back with its painting.
        "initialMask": initial.get_file_url() if initial else "",
    }
    return render(request, "maskeditor/editor.html", context)


def _painted_mask(form, photo: Photo) -> Mask | None:
    """The mask version of the order: one the editor stored, or an uploaded file stored as
    a new version (so it can be reused too)."""
    if form.cleaned_data.get("mask_id"):
        mask = photo.masks.filter(pk=form.cleaned_data["mask_id"]).first()
        if mask is None:
            raise MaskRejected("That mask does not belong to this photo. Paint it again.")
        return mask
    if form.cleaned_data.get("mask"):
        painted = read_mask(form.cleaned_data["mask"], size=(photo.width, photo.height))
        return mask_save(photo=photo, painted=painted)
    return None


@require_GET
@vary_on_headers("HX-Request")
def order_detail(request: HttpRequest, pk) -> HttpResponse:
    if request.htmx:
        # Polled every 2 s by every open order page: fetch the order alone; the photo and
        # project rows are needed only once it has finished.
        order = get_object_or_404(Order.objects.for_user(request.user), pk=pk)
    else:
        order = _order_for(request, pk)
    lifecycle.order_reap(order)  # if its worker died, this is where the agent notices
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
        "results": order.results.all(),
        "variations": order.variations.all(),
        "queue_position": queue_position,
        "share_links": order.share_links.all(),
    }


@require_POST
def order_cancel(request: HttpRequest, pk) -> HttpResponse:
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
def photo_gallery(request: HttpRequest, photo_id) -> HttpResponse:
    photo = _photo_for(request, photo_id)
    orders = photo.orders.prefetch_related("results", "variations")
    return render(
        request,
        "orders/photo_gallery.html",
        {"photo": photo, "project": photo.project, "groups": _grouped(orders)},
    )


@require_GET
def project_gallery(request: HttpRequest, project_id) -> HttpResponse:
    project = get_object_or_404(Project.objects.for_user(request.user), pk=project_id)
    orders = Order.objects.filter(photo__project=project).select_related("photo")
    return render(
        request,
        "orders/project_gallery.html",
        {
            "project": project,
            "groups": _grouped(orders.prefetch_related("results")),
            "share_links": project.share_links.all(),
            "pickable": OrderResult.objects.filter(
                order__photo__project=project, order__status=Order.Status.SUCCEEDED
            ).select_related("order"),
        },
    )


def _grouped(orders) -> list[tuple[Order, list[Order]]]:
    """Each first order, and it followed by its variations; newest first. A variation whose
    parent is gone stands on its own."""
    orders = list(orders)
    ids = {order.pk for order in orders}
    roots = [o for o in orders if o.parent_id is None or o.parent_id not in ids]
    children: dict = {}
    for order in orders:
        if order.parent_id in ids:
            children.setdefault(order.parent_id, []).append(order)
    return [(root, [root, *reversed(children.get(root.pk, []))]) for root in roots]


@require_GET
def result_file(request: HttpRequest, pk, kind: str) -> HttpResponse:
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
def result_delete(request: HttpRequest, pk) -> HttpResponse:
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
def share_create(request: HttpRequest, kind: str, pk) -> HttpResponse:
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
def share_revoke(request: HttpRequest, pk) -> HttpResponse:
    link = get_object_or_404(ShareLink.objects.for_user(request.user), pk=pk)
    if not link.revoked_at:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
    messages.success(request, "Share link revoked: it no longer shows anything.")
    return _back(request, link)


def _back(request: HttpRequest, link: ShareLink) -> HttpResponse:
    """To the page the form was on, if it is one of ours."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = (
            reverse("orders:project_gallery", args=[link.project_id])
            if link.project_id
            else link.order.get_absolute_url()
        )
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
        ShareLink.objects.filter(pk=link.pk).update(
            view_count=F("view_count") + 1, last_viewed_at=timezone.now()
        )
        context = {"link": link, "results": link.shared_results()}
        response = render(request, "orders/share_page.html", context)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_not_required
@require_GET
def share_file(request: HttpRequest, token: str, kind: str, pk) -> HttpResponse:
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
