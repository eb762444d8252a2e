from django.contrib import admin
from django.db.models import Count
from django.utils.html import format_html

from .models import Photo, Project
from .services import photo_delete, project_delete


def thumbnail_tag(photo: Photo, height: int = 64):
    return format_html(
        '<img class="admin-thumb" src="{}" alt="" height="{}" loading="lazy">',
        photo.file_url("thumbnail"),
        height,
    )


class PhotoInline(admin.TabularInline):
    model = Photo
    extra = 0
    can_delete = False
    show_change_link = True
    view_on_site = False
    fields = ("preview", "original_name", "format", "dimensions", "file_size", "uploaded_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # photos are verified on upload; staff cannot add raw files here

    @admin.display(description="")
    def preview(self, photo: Photo):
        return thumbnail_tag(photo, 48)


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "address", "photo_count", "updated_at")
    list_filter = ("created_at", "updated_at")
    search_fields = ("name", "address", "owner__email", "owner__agency")
    list_select_related = ("owner",)
    autocomplete_fields = ("owner",)
    readonly_fields = ("id", "created_at", "updated_at")
    date_hierarchy = "created_at"
    inlines = [PhotoInline]
    view_on_site = False  # the agent's pages answer 404 to anyone but the owner

    def delete_model(self, request, project: Project) -> None:
        project_delete(project=project)

    def delete_queryset(self, request, queryset) -> None:
        for project in queryset:
            project_delete(project=project)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(photo_count=Count("photos"))

    @admin.display(description="photos", ordering="photo_count")
    def photo_count(self, project: Project) -> int:
        return project.photo_count  # type: ignore[attr-defined]  # annotated in get_queryset


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    list_display = (
        "preview",
        "original_name",
        "project",
        "owner",
        "format",
        "dimensions",
        "file_size",
    )
    list_display_links = ("preview", "original_name")
    list_filter = ("format", "uploaded_at")
    search_fields = ("original_name", "sha256", "project__name", "project__owner__email")
    list_select_related = ("project__owner",)
    date_hierarchy = "uploaded_at"
    view_on_site = False
    fields = (
        "large_preview",
        "project",
        "original_name",
        "format",
        "dimensions",
        "file_size",
        "sha256",
        "files",
        "uploaded_at",
    )
    readonly_fields = tuple(name for name in fields if name != "original_name")

    def delete_model(self, request, photo: Photo) -> None:
        photo_delete(photo=photo)

    def delete_queryset(self, request, queryset) -> None:
        for photo in queryset:
            photo_delete(photo=photo)

    def has_add_permission(self, request) -> bool:
        return False  # uploads go through the agent's page, where every file is verified

    @admin.display(description="")
    def preview(self, photo: Photo):
        return thumbnail_tag(photo)

    @admin.display(description="preview")
    def large_preview(self, photo: Photo):
        return thumbnail_tag(photo, 240)

    @admin.display(description="files")
    def files(self, photo: Photo):
        return format_html(
            '<a href="{}">original</a> · <a href="{}">display copy</a> · '
            '<a href="{}">thumbnail</a>',
            photo.file_url("original"),
            photo.file_url("display"),
            photo.file_url("thumbnail"),
        )

    @admin.display(description="owner", ordering="project__owner__email")
    def owner(self, photo: Photo):
        return photo.project.owner
