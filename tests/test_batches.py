"""Listing orders: one service and one set of choices for many photos of a listing."""

import sqlite3
import subprocess
import sys
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse

from orders import lifecycle
from orders.models import Batch, ListingStyle, Order
from orders.services import batch_place, listing_style_remember
from orders.tasks import run_order_task

from .factories import make_order, make_photo, make_project, mask_png, run_to_the_end
from .fakes import FakeAiHomeDesign
from .images import jpeg_bytes
from .test_settings_and_serve import ROOT, clean_env, manage

ENHANCE = {
    "scene": "indoor",
    "white_balance": "on",
    "local_contrast": "on",
    "sharpen": "on",
    "strength": "60",
}


@pytest.fixture
def photos(project):
    return [make_photo(project, name=f"{n:02}-room.jpg") for n in range(1, 4)]


def batch_url(project, service="image_enhancement"):
    return reverse("orders:batch_create", args=[project.pk, service])


def test_a_batch_orders_every_chosen_photo_once_and_charges_each(
    agent_client, agent, project, photos, django_capture_on_commit_callbacks
):
    before = agent.credits
    with django_capture_on_commit_callbacks() as queued:
        response = agent_client.post(
            batch_url(project), {**ENHANCE, "photos": [str(p.pk) for p in photos[:2]]}
        )

    batch = Batch.objects.get()
    assert response.url == batch.get_absolute_url()
    orders = list(batch.orders.order_by("photo__original_name"))
    assert [o.photo for o in orders] == photos[:2]
    assert all(o.options["sharpen"] is True and o.status == "queued" for o in orders)
    assert len(queued) == 2  # each order queued on commit
    agent.refresh_from_db()
    assert agent.credits == before - 2


def test_a_batch_the_balance_does_not_cover_is_refused_with_nothing_charged(
    agent_client, agent, project, photos
):
    agent.credits = 2
    agent.save()

    response = agent_client.post(
        batch_url(project, "day_to_dusk"),
        {"sky_style": "golden_hour", "photos": [str(p.pk) for p in photos]},
    )

    assert response.status_code == 200
    assert "This batch of 3 photos costs 6 credits and you have 2." in response.text
    assert not Order.objects.exists() and not Batch.objects.exists()
    agent.refresh_from_db()
    assert agent.credits == 2 and not agent.credit_entries.filter(kind="charge").exists()


def test_a_batch_page_polls_once_for_all_its_orders_and_stops_when_all_are_done(
    agent_client, project, photos
):
    agent_client.post(batch_url(project), {**ENHANCE, "photos": [str(p.pk) for p in photos]})
    batch = Batch.objects.get()
    first = agent_client.get(batch.get_absolute_url(), headers={"HX-Request": "true"})
    assert first.status_code == 200 and 'hx-trigger="every 2s"' in first.text
    assert "0 of 3 done" in first.text

    for order in batch.orders.all():
        run_order_task.call(order_id=str(order.pk))
    last = agent_client.get(batch.get_absolute_url(), headers={"HX-Request": "true"})

    assert last.status_code == 286 and "hx-trigger" not in last.text
    assert "3 of 3 done" in last.text
    page = agent_client.get(batch.get_absolute_url())
    assert page.text.count('class="batch-order status-succeeded"') == 3


def test_photos_of_another_project_cannot_be_slipped_into_a_batch(
    agent_client, agent, project, photos
):
    elsewhere = make_photo(make_project(agent, name="Other listing"))

    response = agent_client.post(
        batch_url(project), {**ENHANCE, "photos": [str(photos[0].pk), str(elsewhere.pk)]}
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert not Order.objects.exists()


def test_a_batch_that_needs_a_mask_is_painted_photo_by_photo(agent_client, agent, project):
    scene = jpeg_bytes((600, 400))
    first, second, third = (make_photo(project, name=f"{n}.jpg", data=scene) for n in "abc")
    response = agent_client.post(
        batch_url(project, "item_removal_mask"),
        {"photos": [str(first.pk), str(second.pk), str(third.pk)]},
    )
    batch = Batch.objects.get()
    assert not batch.orders.exists()  # nothing is ordered before it is painted
    editor = agent_client.get(response.url)
    assert (
        response.url
        == reverse("orders:order_create", args=[first.pk, "item_removal_mask"])
        + f"?batch={batch.pk}"
    )
    assert 'data-testid="batch-step"' in editor.text and "3 photos left to paint" in editor.text

    painted = agent_client.post(
        response.url,
        {"mask": SimpleUploadedFile("mask.png", mask_png((600, 400), (250, 150, 350, 250)))},
    )
    assert (
        painted.url
        == reverse("orders:order_create", args=[second.pk, "item_removal_mask"])
        + f"?batch={batch.pk}"
    )
    skipped = agent_client.post(reverse("orders:batch_skip", args=[batch.pk, second.pk]))
    assert skipped.url.startswith(
        reverse("orders:order_create", args=[third.pk, "item_removal_mask"])
    )
    agent_client.post(
        skipped.url,
        {"mask": SimpleUploadedFile("mask.png", mask_png((600, 400), (10, 10, 90, 90)))},
    )

    batch.refresh_from_db()
    assert batch.photos_to_paint == []
    assert sorted(o.photo.original_name for o in batch.orders.all()) == ["a.jpg", "c.jpg"]
    assert all(o.mask.photo_id == o.photo_id for o in batch.orders.all())


def test_the_listing_style_fills_in_staging_and_is_remembered(
    agent_client, project, photos, settings
):
    settings.AIHOMEDESIGN_API_KEY = "a-key"  # staging is offered (nothing is sent on a GET)
    ListingStyle.objects.create(
        project=project, style="scandinavian", colour="warm_neutrals",
        room_types={str(photos[1].pk): "bedroom"},
    )  # fmt: skip

    form = agent_client.get(reverse("orders:order_create", args=[photos[1].pk, "interior_design"]))
    batch_form = agent_client.get(batch_url(project, "virtual_staging"))

    assert '<option value="scandinavian" selected>' in form.text
    assert '<option value="warm_neutrals" selected>' in form.text
    assert '<option value="bedroom" selected>' in form.text
    assert 'data-testid="listing-style"' in form.text
    assert '<option value="scandinavian" selected>' in batch_form.text
    assert f'name="room_{photos[1].pk}"' in batch_form.text


def test_a_placed_design_order_sets_the_listing_style(agent, photos):
    order = Order.objects.create(
        owner=agent, photo=photos[0], service="virtual_staging",
        options={"room_type": "kitchen", "style": "industrial", "results": 1},
    )  # fmt: skip

    with transaction.atomic():
        listing_style_remember(order)

    style = ListingStyle.objects.get(project=photos[0].project)
    assert style.style == "industrial"
    assert style.options_for(photos[0].pk) == {"style": "industrial", "room_type": "kitchen"}


def test_outsiders_reach_no_batch_route(agent_client, outsider, project, photos):
    agent_client.post(batch_url(project), {**ENHANCE, "photos": [str(photos[0].pk)]})
    outsider_client, anonymous = Client(), Client()
    outsider_client.force_login(outsider)
    batch = Batch.objects.get()
    routes = [
        ("get", reverse("orders:batch_services", args=[project.pk])),
        ("get", batch_url(project)),
        ("post", batch_url(project)),
        ("get", batch.get_absolute_url()),
        ("post", reverse("orders:batch_skip", args=[batch.pk, photos[0].pk])),
    ]
    for method, url in routes:
        assert getattr(outsider_client, method)(url).status_code == 404, url
    for method, url in routes:
        response = getattr(anonymous, method)(url)
        assert response.status_code == 302 and "/login/" in response.url, url
    assert Batch.objects.count() == 1 and Order.objects.count() == 1


def test_staff_see_batches_with_their_failures(admin_client, agent, project, photos):
    batch = Batch.objects.create(owner=agent, project=project, service="image_enhancement")
    for photo in photos:
        order = make_order(photo)
        Order.objects.filter(pk=order.pk).update(batch=batch)
    failing = batch.orders.first()
    lifecycle.order_fail(failing, message="The provider refused this photo.")

    listing = admin_client.get("/admin/orders/batch/?state=failures")
    detail = admin_client.get(f"/admin/orders/batch/{batch.pk}/change/")

    assert listing.status_code == 200 and project.name in listing.text
    assert admin_client.get("/admin/orders/batch/?state=done").text.count(project.name) == 0
    assert "The provider refused this photo." in detail.text


PLACE_BATCH = """
from django.core.files.uploadedfile import SimpleUploadedFile
from homedesign.accounts.models import User
from homedesign.projects.models import Project
from homedesign.projects.services import photo_add
from orders.services import batch_place
from tests.images import jpeg_bytes

user = User.objects.create_user("batch@example.com", "a long passphrase 123", credits=40)
project = Project.objects.create(owner=user, name="Thirty photos")
photos = [
    photo_add(project=project, upload=SimpleUploadedFile(f"{n:02}.jpg", jpeg_bytes((320, 240))))
    for n in range(30)
]
batch = batch_place(user=user, project=project, photos=photos, service="image_enhancement",
                    options={"scene": "indoor", "white_balance": True,
                             "local_contrast": True, "sharpen": True})
print(batch.pk.hex)
"""


def test_a_batch_of_thirty_photos_goes_through_a_real_worker(tmp_path):
    env = {"DATA_DIR": str(tmp_path)}
    assert manage("migrate", "--no-input", env=env).returncode == 0
    placed = manage("shell", "-v", "0", "-c", PLACE_BATCH, env=env, timeout=300)
    assert placed.returncode == 0, placed.stderr
    batch_id = placed.stdout.strip().splitlines()[-1]
    database = tmp_path / "db.sqlite3"

    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--interval", "0.1"],
        cwd=ROOT, env=clean_env(**env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and _unfinished(database, batch_id):
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=60)

    with sqlite3.connect(database) as db:
        statuses = db.execute(
            "SELECT status, COUNT(*) FROM orders_order WHERE batch_id = ? GROUP BY status",
            [batch_id],
        ).fetchall()
        credits = db.execute(
            "SELECT credits FROM accounts_user WHERE email = 'batch@example.com'"
        ).fetchone()[0]
        results = db.execute(
            "SELECT COUNT(*) FROM orders_orderresult r JOIN orders_order o ON r.order_id = o.id "
            "WHERE o.batch_id = ?",
            [batch_id],
        ).fetchone()[0]
    assert statuses == [("succeeded", 30)]
    assert (credits, results) == (10, 30)  # 40 - 30 × 1 credit, one result each


def _unfinished(database, batch_id: str) -> int:
    with sqlite3.connect(database) as db:
        return db.execute(
            "SELECT COUNT(*) FROM orders_order "
            "WHERE batch_id = ? AND status IN ('queued', 'processing')",
            [batch_id],
        ).fetchone()[0]


@pytest.fixture
def aihomedesign(settings):
    server = FakeAiHomeDesign()
    settings.AIHOMEDESIGN_API_KEY = "aihd-key"
    settings.AIHOMEDESIGN_BASE_URL = server.url + "/v1"
    settings.EGRESS_TRUSTED_ORIGINS = [server.cdn]  # its "CDN", on loopback like all fakes
    settings.PROVIDER_BACKOFF_SECONDS = 0.01
    yield server
    server.close()
    assert not server.errors, server.errors


def test_three_rooms_staged_in_one_style_reach_ai_homedesign_alike(aihomedesign, agent, project):
    rooms = {"salon.jpg": "living_room", "chambre.jpg": "bedroom", "cuisine.jpg": "kitchen"}
    photos = [make_photo(project, name=name) for name in rooms]

    batch = batch_place(
        user=agent,
        project=project,
        photos=photos,
        service="virtual_staging",
        options={"style": "scandinavian", "results": 1},
        room_types={str(photo.pk): rooms[photo.original_name] for photo in photos},
    )
    done = [run_to_the_end(order) for order in batch.orders.all()]

    assert [order.status for order in done] == ["succeeded"] * 3
    widgets = aihomedesign.catalog["service-ai-virtual-staging"][1]
    scandinavian = next(
        item["id"]
        for widget in widgets
        for item in widget["items"]
        if item["title"] == "Scandinavian"
    )
    bodies = [aihomedesign.orders[order.provider_ref]["request"] for order in done]
    assert all(
        body["selected_widgets"] == [{"id": "w-style", "item_id": scandinavian}] for body in bodies
    )
    assert sorted(body["space_name"] for body in bodies) == [
        "space-bedroom", "space-kitchen--", "space-living-room"
    ]  # fmt: skip
    style = ListingStyle.objects.get(project=project)
    assert style.style == "scandinavian" and len(style.room_types) == 3
    page = Client()
    page.force_login(agent)
    shown = page.get(done[0].get_absolute_url())
    assert "Scandinavian" in shown.text  # the order shows the style it used
