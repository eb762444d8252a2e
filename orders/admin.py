from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Count, Model, Q
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from homedesign.accounts.credits import NotEnoughCredits
from homedesign.accounts.models import CreditEntry

from . import lifecycle, services
from .models import (
    Batch,
    CatalogEntry,
    ListingZip,
    Order,
    OrderResult,
    ProviderAccount,
    Rendition,
    Review,
    ShareLink,
    token_digest,
)
from .providers.aihd_catalog import maps_to
from .providers.handover import webhook_url


class OrderResultInline(admin.TabularInline):
    model = OrderResult
    extra = 0
    can_delete = False
    fields = ("preview", "index", "width", "height", "byte_size", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="")
    def preview(self, result: OrderResult):
        return format_html(
            '<img class="admin-thumb" src="{}" alt="" height="64">',
            result.file_url("thumbnail"),
        )


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = (
        "created_at", "owner", "service", "status", "provider", "progress",
        "credits_charged", "credits_refunded", "short_error",
    )  # fmt: skip
    list_filter = ("status", "service", "provider", "created_at")
    search_fields = ("id", "owner__email", "photo__original_name", "provider_ref")
    list_select_related = ("owner",)
    date_hierarchy = "created_at"
    inlines = [OrderResultInline]
    actions = ["retry", "cancel", "refund"]
    view_on_site = False
    readonly_fields = (
        "id", "owner", "photo", "parent", "service", "options", "mask", "status", "provider",
        "provider_ref", "provider_state", "progress", "eta", "message", "error_detail",
        "credits_charged", "credits_refunded", "attempts", "lease_expires_at", "created_at",
        "started_at", "finished_at",
    )  # fmt: skip

    def has_add_permission(self, request) -> bool:
        return False  # orders are placed by agents, so credits and files stay consistent

    @admin.display(description="error")
    def short_error(self, order: Order) -> str:
        return order.message[:80]

    @admin.action(description="Retry (charges the credits again)")
    def retry(self, request, queryset) -> None:
        self._apply(request, queryset, services.order_retry, "queued again")

    @admin.action(description="Cancel queued orders (refunds)")
    def cancel(self, request, queryset) -> None:
        self._apply(request, queryset, lifecycle.order_cancel, "cancelled")

    @admin.action(description="Refund the credits of finished orders")
    def refund(self, request, queryset) -> None:
        self._apply(request, queryset, lifecycle.order_refund, "refunded")

    def _apply(self, request, queryset, step, done: str) -> None:
        changed, problems = 0, []
        for order in queryset:
            try:
                changed += bool(step(order))
            except NotEnoughCredits as error:
                problems.append(f"{order.owner}: {error}")
        skipped = queryset.count() - changed - len(problems)
        self.message_user(request, f"{changed} order(s) {done}.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{skipped} order(s) were not in a state for that.", messages.WARNING
            )
        for problem in problems:
            self.message_user(request, problem, messages.ERROR)


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = ("created_at", "owner", "subject", "live", "expires_at", "view_count")
    list_filter = ("revoked_at", "include_originals", "picks_only", "label_mode", "created_at")
    search_fields = ("owner__email", "project__name")
    list_select_related = ("owner", "project", "order")
    readonly_fields = (
        "token",
        "owner",
        "project",
        "order",
        "picks_only",
        "created_at",
        "view_count",
        "last_viewed_at",
    )
    actions = ["revoke"]
    view_on_site = False

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(boolean=True)
    def live(self, link: ShareLink) -> bool:
        return link.is_live

    def get_search_results(self, request, queryset, search_term):
        """A link pasted from an e-mail finds its row: the token is matched by digest."""
        results, distinct = super().get_search_results(request, queryset, search_term)
        token = search_term.strip().rstrip("/").rsplit("/", 1)[-1]
        if token:
            results |= queryset.filter(token_digest=token_digest(token))
        return results, distinct

    @admin.action(description="Revoke")
    def revoke(self, request, queryset) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"{count} link(s) revoked.", messages.SUCCESS)


@admin.register(CreditEntry)
class CreditEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "kind", "amount", "balance_after", "order", "note")
    list_filter = ("kind", "created_at")
    search_fields = ("user__email", "note", "order__id")
    list_select_related = ("user", "order")
    date_hierarchy = "created_at"

    # The ledger is history: staff change balances on the user, which writes a line here.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ProviderAccount)
class ProviderAccountAdmin(admin.ModelAdmin):
    list_display = ("provider", "remaining_photos", "orders_in_window", "webhook", "updated_at")
    readonly_fields = ("provider", "remaining_photos", "recent_orders", "webhook", "updated_at")

    @admin.display(description="orders sent, last 10 min")
    def orders_in_window(self, account: ProviderAccount) -> int:
        since = timezone.now() - timedelta(seconds=settings.AIHOMEDESIGN_WINDOW_SECONDS)
        return sum(datetime.fromisoformat(t) > since for t in account.recent_orders)

    @admin.display(description="webhook URL to register")
    def webhook(self, account: ProviderAccount) -> str:
        return webhook_url(account.provider) if settings.PUBLIC_BASE_URL else "set PUBLIC_BASE_URL"

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(CatalogEntry)
class CatalogEntryAdmin(admin.ModelAdmin):
    list_display = ("service_name", "kind", "space_name", "widget_title", "title", "maps_to",
                    "remote_id", "fetched_at")  # fmt: skip
    list_filter = ("service_name", "kind", "widget_title")
    search_fields = ("title", "name", "space_name", "remote_id")
    readonly_fields = [field.name for field in CatalogEntry._meta.fields]

    @admin.display(description="our choice")
    def maps_to(self, entry: CatalogEntry) -> str:
        return maps_to(entry) or "–"

    def has_add_permission(self, request) -> bool:
        return False


class BatchStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("running", "Still running"),
            ("failures", "With failed photos"),
            ("done", "All done"),
        ]

    def queryset(self, request, queryset):
        unfinished = Q(orders__status__in=Order.UNFINISHED)
        if self.value() == "running":
            return queryset.filter(unfinished).distinct()
        if self.value() == "failures":
            return queryset.filter(orders__status=Order.Status.FAILED).distinct()
        if self.value() == "done":
            return queryset.exclude(unfinished).exclude(orders__status=Order.Status.FAILED)
        return queryset


class BatchOrderInline(admin.TabularInline):
    model = Order
    fk_name = "batch"
    extra = 0
    can_delete = False
    fields = ("photo", "status", "progress", "message", "credits_charged", "credits_refunded")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    """Listing orders: support answers "why did 3 of my 30 photos fail" from here."""

    list_display = ("created_at", "owner", "project", "service", "photos", "done", "failed")
    list_filter = (BatchStatusFilter, "service", "created_at")
    search_fields = ("owner__email", "project__name")
    list_select_related = ("owner", "project")
    readonly_fields = ("owner", "project", "service", "options", "photos_to_paint", "created_at")
    inlines = [BatchOrderInline]
    view_on_site = False

    def has_add_permission(self, request) -> bool:
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                photo_total=Count("orders"),
                done_total=Count("orders", filter=Q(orders__status=Order.Status.SUCCEEDED)),
                failed_total=Count("orders", filter=Q(orders__status=Order.Status.FAILED)),
            )
        )

    @admin.display(description="photos", ordering="photo_total")
    def photos(self, batch: Batch) -> int:
        return batch.photo_total  # type: ignore[attr-defined]  # annotated in get_queryset

    @admin.display(description="done", ordering="done_total")
    def done(self, batch: Batch) -> int:
        return batch.done_total  # type: ignore[attr-defined]

    @admin.display(description="failed", ordering="failed_total")
    def failed(self, batch: Batch) -> int:
        return batch.failed_total  # type: ignore[attr-defined]


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ("created_at", "link_owner", "verdict", "short_comment", "answered_by")
    list_filter = ("verdict", ("answered_by", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("link__owner__email", "comment")
    list_select_related = ("link__owner", "answered_by")
    readonly_fields = ("link", "result", "verdict", "comment", "created_at", "answered_by")
    view_on_site = False

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="agent")
    def link_owner(self, review: Review) -> str:
        return str(review.link.owner)

    @admin.display(description="comment")
    def short_comment(self, review: Review) -> str:
        return review.comment[:80]


def _admin_link(obj: Model, label: object) -> str:
    """A link to the object's own admin page."""
    meta = obj._meta
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label)


@admin.register(Rendition)
class RenditionAdmin(admin.ModelAdmin):
    """The files results are delivered as. Made by the worker from the result's pixels, so
    nothing here is edited; a deleted one (its file too) is made again when next asked for."""

    list_display = (
        "created_at", "preview", "caption", "kind", "corner", "dimensions", "size", "owner",
        "order_link", "project_link",
    )  # fmt: skip
    list_filter = ("kind", "label", "created_at")
    search_fields = (
        "result__id", "result__order__id", "result__order__owner__email",
        "result__order__photo__project__name",
    )  # fmt: skip
    list_select_related = ("result__order__owner", "result__order__photo__project")
    date_hierarchy = "created_at"
    fields = (
        "preview", "caption", "order_link", "project_link", "owner", "kind", "corner", "file",
        "dimensions", "size", "created_at",
    )  # fmt: skip
    readonly_fields = fields
    view_on_site = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def delete_model(self, request, rendition: Rendition) -> None:
        services.renditions_delete(Rendition.objects.filter(pk=rendition.pk))

    def delete_queryset(self, request, queryset) -> None:
        services.renditions_delete(queryset)

    @admin.display(description="")
    def preview(self, rendition: Rendition):
        return format_html(
            '<a href="{}"><img class="admin-thumb" src="{}" alt="" height="48" loading="lazy"></a>',
            rendition.result.file_url("full"),
            rendition.result.file_url("thumbnail"),
        )

    @admin.display(description="result", ordering="result__order__service")
    def caption(self, rendition: Rendition) -> str:
        return rendition.result.caption

    @admin.display(description="label", ordering="label")
    def corner(self, rendition: Rendition) -> str:
        return rendition.label.replace("_", " ") or "none"

    @admin.display(description="pixels")
    def dimensions(self, rendition: Rendition) -> str:
        return f"{rendition.width} × {rendition.height}"

    @admin.display(description="size", ordering="byte_size")
    def size(self, rendition: Rendition) -> str:
        return filesizeformat(rendition.byte_size)

    @admin.display(description="agent", ordering="result__order__owner__email")
    def owner(self, rendition: Rendition) -> str:
        return str(rendition.result.order.owner)

    @admin.display(description="order")
    def order_link(self, rendition: Rendition) -> str:
        order = rendition.result.order
        return _admin_link(order, order.service_info.label)

    @admin.display(description="project", ordering="result__order__photo__project__name")
    def project_link(self, rendition: Rendition) -> str:
        project = rendition.result.order.photo.project
        return _admin_link(project, project.name)


@admin.register(ListingZip)
class ListingZipAdmin(admin.ModelAdmin):
    """Listing ZIPs as the worker builds them: support sees a stuck or failed one, why,
    and can queue a failed one again for the agent."""

    list_display = (
        "created_at", "owner", "project_link", "status", "progress", "result_count", "size",
        "include_originals", "file_size", "builds", "heartbeat_at", "finished_at",
    )  # fmt: skip
    list_filter = ("status", "size", "include_originals", "created_at")
    search_fields = ("id", "owner__email", "project__name")
    list_select_related = ("owner", "project")
    date_hierarchy = "created_at"
    fields = (
        "id", "owner", "project_link", "status", "progress", "message", "size",
        "include_originals", "result_links", "file", "file_size", "builds", "heartbeat_at",
        "created_at", "finished_at",
    )  # fmt: skip
    readonly_fields = fields
    actions = ["build_again"]
    view_on_site = False

    def has_add_permission(self, request) -> bool:
        return False  # asked for by agents, from their chosen results

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def delete_model(self, request, archive: ListingZip) -> None:
        services.listing_zips_delete(ListingZip.objects.filter(pk=archive.pk))

    def delete_queryset(self, request, queryset) -> None:
        services.listing_zips_delete(queryset)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(result_total=Count("results"))

    @admin.display(description="results", ordering="result_total")
    def result_count(self, archive: ListingZip) -> int:
        return archive.result_total  # type: ignore[attr-defined]  # annotated in get_queryset

    @admin.display(description="file size", ordering="byte_size")
    def file_size(self, archive: ListingZip) -> str:
        return filesizeformat(archive.byte_size) if archive.byte_size else "–"

    @admin.display(description="project", ordering="project__name")
    def project_link(self, archive: ListingZip) -> str:
        return _admin_link(archive.project, archive.project.name)

    @admin.display(description="results")
    def result_links(self, archive: ListingZip) -> str:
        results = archive.results.select_related("order__photo")
        return format_html_join(
            "", "<div>{}</div>", ((_admin_link(r.order, r.caption),) for r in results)
        )

    @admin.action(description="Build failed ZIPs again")
    def build_again(self, request, queryset) -> None:
        count = sum(services.listing_zip_retry(archive) for archive in queryset)
        self.message_user(request, f"{count} ZIP(s) queued again.", messages.SUCCESS)
        if skipped := queryset.count() - count:
            self.message_user(
                request, f"{skipped} ZIP(s) had not failed; left as they are.", messages.WARNING
            )
