from django.contrib import admin
from django.utils.html import format_html

from .models import Mask


@admin.register(Mask)
class MaskAdmin(admin.ModelAdmin):
    list_display = ("photo", "version", "owner", "painted_percent", "created_at")
    search_fields = ("photo__original_name", "owner__email")
    list_select_related = ("photo", "owner")
    readonly_fields = ("owner", "photo", "version", "preview", "painted_share", "created_at")
    fields = readonly_fields
    view_on_site = False

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="painted")
    def painted_percent(self, mask: Mask) -> str:
        return f"{mask.painted_share:.1%}"

    @admin.display(description="mask")
    def preview(self, mask: Mask):
        return format_html(
            '<a href="{}"><img class="admin-mask" src="{}" alt=""></a>',
            mask.get_file_url(),
            mask.get_file_url(),
        )
