from django.urls import path

from . import views, webhooks

app_name = "orders"

urlpatterns = [
    path("photos/<uuid:photo_id>/edits/", views.order_services, name="order_services"),
    path("photos/<uuid:photo_id>/edits/<slug:service>/", views.order_create, name="order_create"),
    path("photos/<uuid:photo_id>/gallery/", views.photo_gallery, name="photo_gallery"),
    path("projects/<uuid:project_id>/batch/", views.batch_services, name="batch_services"),
    path(
        "projects/<uuid:project_id>/batch/<slug:service>/",
        views.batch_create,
        name="batch_create",
    ),
    path("batches/<uuid:pk>/", views.batch_detail, name="batch_detail"),
    path("batches/<uuid:pk>/skip/<uuid:photo_id>/", views.batch_skip, name="batch_skip"),
    path("projects/<uuid:project_id>/gallery/", views.project_gallery, name="project_gallery"),
    path("orders/<uuid:pk>/", views.order_detail, name="order_detail"),
    path("orders/<uuid:pk>/cancel/", views.order_cancel, name="order_cancel"),
    path("orders/<uuid:pk>/variation/", views.order_variation, name="order_variation"),
    path("results/<uuid:pk>/delete/", views.result_delete, name="result_delete"),
    path("results/<uuid:pk>/files/<str:kind>/", views.result_file, name="result_file"),
    path("results/<uuid:pk>/download/<str:kind>/", views.result_download, name="result_download"),
    path("projects/<uuid:project_id>/label/", views.project_label, name="project_label"),
    path("projects/<uuid:project_id>/zips/", views.listing_zip_create, name="listing_zip_create"),
    path("zips/<uuid:pk>/", views.listing_zip_detail, name="listing_zip_detail"),
    path("zips/<uuid:pk>/file/", views.listing_zip_file, name="listing_zip_file"),
    path("share/<str:kind>/<uuid:pk>/", views.share_create, name="share_create"),
    path("share-links/<uuid:pk>/revoke/", views.share_revoke, name="share_revoke"),
    path("reviews/", views.review_list, name="review_list"),
    path("s/<str:token>/", views.share_page, name="share_page"),
    path("s/<str:token>/review/", views.share_review, name="share_review"),
    path("s/<str:token>/logo/", views.share_logo, name="share_logo"),
    path("s/<str:token>/<str:kind>/<uuid:pk>/", views.share_file, name="share_file"),
    path("handover/<str:token>/<str:filename>", webhooks.handover, name="handover"),
    path("hooks/<slug:provider>/<str:secret>/", webhooks.webhook, name="webhook"),
    path("hooks/<slug:provider>/<str:secret>/<str:job>/", webhooks.webhook, name="webhook_job"),
]
