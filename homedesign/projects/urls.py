from django.urls import path

from . import views

app_name = "projects"

urlpatterns = [
    path("", views.project_list, name="project_list"),
    path("projects/new/", views.project_create, name="project_create"),
    path("projects/<uuid:pk>/", views.project_detail, name="project_detail"),
    path("projects/<uuid:pk>/edit/", views.project_edit, name="project_edit"),
    path("projects/<uuid:pk>/delete/", views.project_delete, name="project_delete"),
    path("projects/<uuid:pk>/photos/", views.photo_upload, name="photo_upload"),
    path("photos/<uuid:pk>/", views.photo_detail, name="photo_detail"),
    path("photos/<uuid:pk>/delete/", views.photo_delete, name="photo_delete"),
    path("photos/<uuid:pk>/files/<str:kind>/", views.photo_file, name="photo_file"),
]
