from django.urls import path

from . import views

app_name = "maskeditor"

urlpatterns = [
    path("photos/<uuid:photo_id>/masks/", views.mask_upload, name="mask_upload"),
    path("masks/<uuid:pk>/", views.mask_file, name="mask_file"),
]
