from django.contrib import admin
from django.urls import include, path

from . import views

admin.site.site_header = "homedesign staff"
admin.site.site_title = "homedesign staff"
admin.site.index_title = "Accounts, projects and photos"
admin.site.enable_nav_sidebar = False  # the lists are wide; the sidebar squeezed them

urlpatterns = [
    path("", include("homedesign.projects.urls")),
    path("", include("orders.urls")),
    path("", include("maskeditor.urls")),
    path("accounts/", include("homedesign.accounts.urls")),
    path("admin/", admin.site.urls),
    path("healthz/", views.healthz, name="healthz"),
]
