import contextlib
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import Resolver404, resolve, reverse

from orders.services import share_link_create
from orders.tasks import run_order_task

from .factories import make_order, make_photo, make_project, make_user, view_answer
from .images import heic_bytes, png_bytes


def file_url(photo, kind: str) -> str:
    return reverse("projects:photo_file", args=[photo.pk, kind])


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.parametrize(
    ("kind", "content_type"),
    [("original", "image/jpeg"), ("display", "image/jpeg"), ("thumbnail", "image/jpeg")],
)
def test_owner_gets_each_file_with_its_type_and_nosniff(agent_client, project, kind, content_type):
    photo = make_photo(project)

    response = agent_client.get(file_url(photo, kind))

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert view_answer(response)["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]
    with getattr(photo, kind).open("rb") as f:
        assert body(response) == f.read()


def test_heic_original_is_served_as_heic_and_copies_as_jpeg(agent_client, project):
    photo = make_photo(project, name="iphone.heic", data=heic_bytes())

    assert agent_client.get(file_url(photo, "original"))["Content-Type"] == "image/heic"
    assert agent_client.get(file_url(photo, "display"))["Content-Type"] == "image/jpeg"


def test_png_original_keeps_its_type(agent_client, project):
    photo = make_photo(project, name="plan.png", data=png_bytes())

    assert agent_client.get(file_url(photo, "original"))["Content-Type"] == "image/png"


def test_download_link_names_the_original_file(agent_client, project):
    photo = make_photo(project, name="Salon été.jpg")

    response = agent_client.get(file_url(photo, "original") + "?download=1")

    assert response["Content-Disposition"].startswith("attachment;")
    assert "Salon%20%C3%A9t%C3%A9.jpg" in response["Content-Disposition"]


@pytest.mark.parametrize("kind", ["original", "display", "thumbnail"])
def test_outsider_gets_404(outsider_client, project, kind):
    photo = make_photo(project)

    assert outsider_client.get(file_url(photo, kind)).status_code == 404


@pytest.mark.parametrize("kind", ["original", "display", "thumbnail"])
def test_logged_out_visitor_gets_404(client, project, kind):
    photo = make_photo(project)

    assert client.get(file_url(photo, kind)).status_code == 404


def test_unknown_kind_is_404(agent_client, project):
    photo = make_photo(project)

    assert agent_client.get(file_url(photo, "sha256")).status_code == 404


def test_staff_who_may_view_photos_see_them_in_the_admin(client, project):
    photo = make_photo(project)
    staff = make_user("staff@example.com", is_staff=True)
    client.force_login(staff)
    assert client.get(file_url(photo, "thumbnail")).status_code == 404

    staff.user_permissions.add(Permission.objects.get(codename="view_photo"))

    assert client.get(file_url(photo, "thumbnail")).status_code == 200


def test_media_root_has_no_public_url(agent_client, project, settings):
    photo = make_photo(project)

    assert not settings.MEDIA_URL.strip("/")
    for prefix in ("/media/", "/", "/static/"):
        path = prefix + photo.original.name
        assert agent_client.get(path).status_code == 404
        with pytest.raises(Resolver404):
            resolve(path)


def test_browser_revalidates_and_gets_304_while_access_holds(agent_client, project, local_files):
    photo = make_photo(project)
    first = agent_client.get(file_url(photo, "thumbnail"))

    again = agent_client.get(file_url(photo, "thumbnail"), headers={"If-None-Match": first["ETag"]})

    assert first["Cache-Control"] == "private, no-cache"
    assert again.status_code == 304
    agent_client.logout()
    assert (
        agent_client.get(
            file_url(photo, "thumbnail"), headers={"If-None-Match": first["ETag"]}
        ).status_code
        == 404
    )


@pytest.fixture
def files_in_a_bucket(settings, s3_endpoint):
    """Files in a bucket on the S3-compatible server, whatever the run uses, each test under
    its own prefix."""
    options = {
        "bucket_name": "homedesign-signing", "endpoint_url": s3_endpoint,
        "region_name": "us-east-1", "access_key": "test", "secret_key": "test-secret",
        "default_acl": "private",
        "querystring_auth": True, "signature_version": "s3v4", "addressing_style": "path",
        "location": f"tests/{uuid.uuid4().hex}",
    }  # fmt: skip
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
    }
    client = default_storage.connection.meta.client
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=options["bucket_name"])


def signed_for(response) -> int:
    """Seconds the bucket URL the view redirected to stays valid."""
    answer = view_answer(response)
    assert answer.status_code == 302, answer.status_code
    return int(parse_qs(urlsplit(answer["Location"]).query)["X-Amz-Expires"][0])


def test_share_page_files_are_signed_for_the_share_expiry_the_owners_for_longer(
    files_in_a_bucket, agent, agent_client, settings
):
    settings.STORAGE_URL_SECONDS, settings.SHARE_FILE_URL_SECONDS = 300, 120
    photo = make_photo(make_project(agent))
    order = make_order(photo)
    run_order_task.call(order_id=order.pk)
    result = order.results.get()
    link = share_link_create(owner=agent, subject=order, expires_at=None, include_originals=False)
    visitor = Client()

    shared = {
        kind: signed_for(visitor.get(reverse("orders:share_file", args=[link.token, kind, pk])))
        for kind, pk in [("display", result.pk), ("thumbnail", result.pk),
                         ("mls", result.pk), ("before", photo.pk)]
    }  # fmt: skip
    owners = signed_for(
        agent_client.get(reverse("orders:result_file", args=[result.pk, "display"]))
    )

    # The "after" picture sellers look at too: revoking the link stops it within 2 minutes.
    assert shared == {"display": 120, "thumbnail": 120, "mls": 120, "before": 120}
    assert owners == 300
