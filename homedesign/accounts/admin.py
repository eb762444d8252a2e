from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import Count

from homedesign.projects.services import projects_delete_for_user

from .credits import credits_adjust, credits_welcome
from .models import User
from .services import user_logo_set


class UserCreateForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    list_display = (
        "email",
        "name",
        "agency",
        "credits",
        "project_count",
        "is_staff",
        "date_joined",
    )
    list_editable = ("credits",)
    list_filter = ("is_staff", "is_superuser", "is_active", "date_joined")
    search_fields = ("email", "name", "agency")
    ordering = ("-date_joined",)
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name", "agency", "credits")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )

    def save_model(self, request, user: User, form, change: bool) -> None:
        if not change:
            super().save_model(request, user, form, change)
            credits_welcome(user=user)
            return
        # Balances change through the ledger, so staff edits are recorded with who and why.
        new_balance = user.credits
        user.credits = User.objects.get(pk=user.pk).credits
        super().save_model(request, user, form, change)
        credits_adjust(user=user, new_balance=new_balance, note=f"by {request.user.email}")
        user.refresh_from_db(fields=["credits"])

    def delete_model(self, request, user: User) -> None:
        projects_delete_for_user(user=user)
        if user.logo:
            user_logo_set(user=user, data=None)
        super().delete_model(request, user)

    def delete_queryset(self, request, queryset) -> None:
        for user in queryset:
            self.delete_model(request, user)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(project_count=Count("projects"))

    @admin.display(description="projects", ordering="project_count")
    def project_count(self, user: User) -> int:
        return user.project_count  # type: ignore[attr-defined]  # annotated in get_queryset
