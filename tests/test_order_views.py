import io
from datetime import timedelta
from pathlib import PurePosixPath

import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from homedesign.projects.models import Photo
from maskeditor.services import mask_save
from orders import lifecycle
from orders.models import Order, ShareLink
from orders.services import order_place
from orders.tasks import run_order_task, share_originals_task

from .factories import Stored, make_order, make_photo, mask_png, view_answer
from .images import jpeg_bytes
from .queue import queued


def test_service_cards_say_what_is_available_here_and_why_not(agent_client, photo):
    response = agent_client.get(reverse("orders:order_services", args=[photo.pk]))

    html = response.text
    assert reverse("orders:order_create", args=[photo.pk, "image_enhancement"]) in html
    assert reverse("orders:order_create", args=[photo.pk, "virtual_staging"]) not in html
    assert "Not available here: needs an AI HomeDesign API key or needs an IACrea API key." in html


def test_ordering_an_enhancement_lands_on_the_order_page(agent_client, photo, agent):
    response = agent_client.post(
        reverse("orders:order_create", args=[photo.pk, "image_enhancement"]),
        {"scene": "outdoor", "white_balance": "on", "sharpen": "on", "strength": "40"},
    )

    order = Order.objects.get()
    assert response.url == order.get_absolute_url()
    assert order.options == {
        "scene": "outdoor",
        "white_balance": True,
        "local_contrast": False,
        "sharpen": True,
        "strength": 40,
    }
    page = agent_client.get(response.url)
    assert 'hx-trigger="every 2s"' in page.text
    assert "Next in line." in page.text


def test_order_form_shows_the_balance_problem(agent_client, photo, agent):
    agent.credits = 0
    agent.save()

    response = agent_client.post(
        reverse("orders:order_create", args=[photo.pk, "upscale"]), {"scale": "2"}
    )

    assert "This edit costs 1 credit and you have 0." in response.text
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        (None, "Paint the area to change first."),
        (
            mask_png((300, 200), (10, 10, 50, 50)),
            "The mask is 300 × 200 pixels but the photo is 600 × 400",
        ),
        (mask_png((600, 400), (0, 0, 0, 0)), "The mask is empty: paint the area to edit."),
        (mask_png((600, 400), (0, 0, 600, 300)), "The mask covers 75% of the photo; paint only"),
        (jpeg_bytes(), "The mask must be a PNG image, not JPEG."),
        (b"garbage", "The mask is not a readable PNG image."),
    ],
)
def test_bad_masks_get_a_clear_message(agent_client, photo, mask, message):
    data = {"mask": SimpleUploadedFile("mask.png", mask)} if mask is not None else {}

    response = agent_client.post(
        reverse("orders:order_create", args=[photo.pk, "item_removal_mask"]), data
    )

    assert response.status_code == 200
    assert message in response.text
    assert not Order.objects.exists()
    assert not photo.masks.exists()  # refused before it was stored


def test_item_removal_with_a_mask_removes_the_painted_area(agent_client, project):
    scene = jpeg_bytes((600, 400))
    photo = make_photo(project, data=scene)
    agent_client.post(
        reverse("orders:order_create", args=[photo.pk, "item_removal_mask"]),
        {"mask": SimpleUploadedFile("mask.png", mask_png((600, 400), (250, 150, 350, 250)))},
    )
    order = Order.objects.get()

    run_order_task.call(order_id=order.pk)

    order.refresh_from_db()
    assert order.status == "succeeded" and order.results.count() == 1


def test_status_fragment_polls_until_done_then_stops_with_the_gallery(agent_client, photo):
    order = make_order(photo)
    url = order.get_absolute_url()

    polling = agent_client.get(url, headers={"HX-Request": "true"})
    run_order_task.call(order_id=order.pk)
    final = agent_client.get(url, headers={"HX-Request": "true"})
    full = agent_client.get(url)

    assert polling.status_code == 200 and "<html" not in polling.text
    assert 'hx-trigger="every 2s"' in polling.text
    assert final.status_code == 286
    assert "hx-trigger" not in final.text
    assert 'data-testid="gallery"' in final.text
    assert reverse("orders:result_file", args=[order.results.get().pk, "display"]) in final.text
    assert "<html" in full.text and "HX-Request" in full["Vary"]


def test_failed_order_shows_the_reason_and_the_refund(agent_client, photo):
    order = make_order(photo, service="background_removal")
    run_order_task.call(order_id=order.pk)  # a flat test card: there is no subject to cut out

    page = agent_client.get(order.get_absolute_url())

    assert "This edit failed" in page.text
    assert "No clear subject was found" in page.text
    assert "1 credit refunded." in page.text


def test_cancel_a_queued_order(agent_client, photo, agent):
    before = agent.credits
    order = make_order(photo)

    response = agent_client.post(reverse("orders:order_cancel", args=[order.pk]), follow=True)

    agent.refresh_from_db()
    assert "Order cancelled; 1 credit refunded." in response.text
    assert agent.credits == before


def test_variation_form_is_prefilled_and_links_to_its_parent(agent_client, photo):
    parent = make_order(photo, service="day_to_dusk", sky_style="pink_sunset")
    url = reverse("orders:order_variation", args=[parent.pk])

    form = agent_client.get(url)
    agent_client.post(url, {"sky_style": "blue_hour"})

    assert '<option value="pink_sunset" selected>' in form.text
    variation = Order.objects.exclude(pk=parent.pk).get()
    assert variation.parent == parent and variation.options["sky_style"] == "blue_hour"
    assert variation.get_absolute_url() in agent_client.get(parent.get_absolute_url()).text


def test_galleries_show_orders_with_their_variations(agent_client, photo, done_order):
    variation = make_order(photo)
    variation.parent = done_order
    variation.save()
    result = done_order.results.get()

    for url in (
        reverse("orders:photo_gallery", args=[photo.pk]),
        reverse("orders:project_gallery", args=[photo.project.pk]),
    ):
        html = agent_client.get(url).text
        assert reverse("orders:result_file", args=[result.pk, "thumbnail"]) in html
        assert "(variation)" in html


def test_result_files_and_delete(
    agent_client, done_order, settings, django_capture_on_commit_callbacks
):
    result = done_order.results.get()
    full = Stored(result.full.name)

    download = agent_client.get(
        reverse("orders:result_file", args=[result.pk, "full"]) + "?download=1"
    )
    assert download["Content-Type"] == "image/jpeg"
    # Named by its place in the listing and what was done, so it sorts beside its photo.
    assert "01-living-room-image-enhancement.jpg" in download["Content-Disposition"]
    delivered = [Stored(r.file.name) for r in result.renditions.all()]
    assert delivered and all(path.exists() for path in delivered)
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(reverse("orders:result_delete", args=[result.pk]))

    assert not full.exists()
    assert not any(path.exists() for path in delivered)
    assert (
        "All results of this order were deleted."
        in agent_client.get(done_order.get_absolute_url()).text
    )


def order_urls(order: Order) -> list[tuple[str, str]]:
    result = order.results.get()
    return [
        ("get", reverse("orders:order_services", args=[order.photo_id])),
        ("get", reverse("orders:order_create", args=[order.photo_id, "upscale"])),
        ("post", reverse("orders:order_create", args=[order.photo_id, "upscale"])),
        ("get", reverse("orders:order_detail", args=[order.pk])),
        ("post", reverse("orders:order_cancel", args=[order.pk])),
        ("get", reverse("orders:order_variation", args=[order.pk])),
        ("get", reverse("orders:photo_gallery", args=[order.photo_id])),
        ("get", reverse("orders:project_gallery", args=[order.photo.project_id])),
        ("get", reverse("orders:result_file", args=[result.pk, "full"])),
        ("get", reverse("orders:result_download", args=[result.pk, "mls"])),
        ("post", reverse("orders:project_label", args=[order.photo.project_id])),
        ("post", reverse("orders:listing_zip_create", args=[order.photo.project_id])),
        ("post", reverse("orders:result_delete", args=[result.pk])),
        ("post", reverse("orders:share_create", args=["order", order.pk])),
        ("post", reverse("orders:share_create", args=["project", order.photo.project_id])),
    ]


@pytest.mark.parametrize("index", range(15))
def test_outsider_gets_404_and_changes_nothing(outsider_client, done_order, index):
    method, url = order_urls(done_order)[index]

    response = getattr(outsider_client, method)(url, {"scale": "2"} if method == "post" else {})

    assert response.status_code == 404
    assert Order.objects.count() == 1 and done_order.results.exists()
    assert not ShareLink.objects.exists()


@pytest.mark.parametrize("index", range(15))
def test_logged_out_visitor_is_sent_to_login(client, done_order, index):
    method, url = order_urls(done_order)[index]

    response = getattr(client, method)(url)

    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_share_link_shows_results_to_anyone_and_nothing_else(
    agent_client, client, done_order, project
):
    agent_client.post(
        reverse("orders:share_create", args=["order", done_order.pk]), {"expires_in_days": "7"}
    )
    link = ShareLink.objects.get()
    result = done_order.results.get()
    agent_client.logout()

    page = client.get(link.get_absolute_url())

    assert len(link.token) >= 32  # 192 bits, URL-safe
    assert page.status_code == 200
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    assert '<meta name="robots" content="noindex, nofollow">' in page.text
    assert project.address not in page.text and "agent@example.com" not in page.text
    after = reverse("orders:share_file", args=[link.token, "display", result.pk])
    before = reverse("orders:share_file", args=[link.token, "before", done_order.photo_id])
    assert after in page.text and before in page.text
    assert client.get(after).status_code == 200 and client.get(before).status_code == 200
    original = reverse("orders:share_file", args=[link.token, "original", done_order.photo_id])
    assert client.get(original).status_code == 404  # originals only when the owner says so
    assert 1 <= (link.expires_at - timezone.now()).days <= 7


def test_originals_can_be_shared_on_purpose(
    agent_client, client, done_order, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(
            reverse("orders:share_create", args=["project", done_order.photo.project_id]),
            {"include_originals": "on"},
        )
    link = ShareLink.objects.get()
    url = reverse("orders:share_file", args=[link.token, "original", done_order.photo_id])

    waiting = client.get(url)
    [task] = queued("orders.tasks.share_originals_task")
    share_originals_task.call(**task.kwargs)  # what the worker does
    response = client.get(url)
    share_originals_task.call(link_id=str(link.pk))  # again: made once, kept

    assert waiting.status_code == 503 and "being prepared" in waiting.text
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert view_answer(response)["X-Robots-Tag"] == "noindex, nofollow"
    photo = done_order.photo
    photo.refresh_from_db()
    assert photo.shared_copy.name == Photo.objects.get(pk=photo.pk).shared_copy.name
    folder = str(PurePosixPath(photo.shared_copy.name).parent)
    assert len([f for f in default_storage.listdir(folder)[1] if f.startswith("shared")]) == 1


def test_revoked_and_expired_links_say_no_longer_available(agent_client, client, done_order):
    agent_client.post(reverse("orders:share_create", args=["order", done_order.pk]))
    link = ShareLink.objects.get()
    result = done_order.results.get()
    agent_client.post(reverse("orders:share_revoke", args=[link.pk]))

    revoked = client.get(link.get_absolute_url())
    link.revoked_at = None
    link.expires_at = timezone.now() - timedelta(minutes=1)
    link.save()
    expired = client.get(link.get_absolute_url())

    for response in (revoked, expired):
        assert response.status_code == 410
        assert "This link is no longer available" in response.text
    assert (
        client.get(
            reverse("orders:share_file", args=[link.token, "display", result.pk])
        ).status_code
        == 404
    )
    assert client.get(reverse("orders:share_page", args=["not-a-token"])).status_code == 404


def test_share_link_of_one_order_does_not_open_another(agent_client, client, photo, done_order):
    other = make_order(photo)
    run_order_task.call(order_id=other.pk)
    agent_client.post(reverse("orders:share_create", args=["order", done_order.pk]))
    link = ShareLink.objects.get()

    response = client.get(
        reverse("orders:share_file", args=[link.token, "full", other.results.get().pk])
    )

    assert response.status_code == 404


def test_share_redirect_stays_on_this_site(agent_client, done_order):
    response = agent_client.post(
        reverse("orders:share_create", args=["order", done_order.pk]),
        {"next": "https://evil.example/"},
    )

    assert response.url == done_order.get_absolute_url()


def test_profile_lists_the_credit_ledger(agent_client, done_order):
    page = agent_client.get(reverse("accounts:profile"))

    assert 'data-testid="ledger"' in page.text
    assert "Order: Image enhancement" in page.text


def test_automatic_declutter_without_a_provider_is_refused_on_the_form(agent_client, photo, agent):
    before = agent.credits

    response = agent_client.post(
        reverse("orders:order_create", args=[photo.pk, "declutter"]), {"auto": "on"}
    )

    assert (
        "automatic decluttering needs a remote provider; paint the clutter instead" in response.text
    )
    agent.refresh_from_db()
    assert agent.credits == before and not Order.objects.exists()


def test_a_white_on_black_mask_file_is_refused_with_the_convention(agent_client, photo):
    from PIL import Image

    image = Image.new("RGBA", (600, 400), (0, 0, 0, 255))
    image.paste((255, 255, 255, 255), (250, 150, 350, 250))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")

    response = agent_client.post(
        reverse("orders:order_create", args=[photo.pk, "item_removal_mask"]),
        {"mask": SimpleUploadedFile("mask.png", buffer.getvalue())},
    )

    assert "240,000 pixels of the mask are neither the brush colour #7878CD" in response.text
    assert not Order.objects.exists()


def test_an_uploaded_mask_file_becomes_a_reusable_version(agent_client, photo):
    agent_client.post(
        reverse("orders:order_create", args=[photo.pk, "item_removal_mask"]),
        {"mask": SimpleUploadedFile("mask.png", mask_png((600, 400), (250, 150, 350, 250)))},
    )

    order = Order.objects.get()
    version = photo.masks.get()
    assert version.version == 1 and version.painted_share == pytest.approx(0.0417, abs=1e-3)
    editor = agent_client.get(reverse("orders:order_create", args=[photo.pk, "exterior_creation"]))
    assert version.get_file_url() in editor.text  # offered again in the editor
    assert order.mask


def test_an_enhancement_must_improve_something(agent_client, photo):
    response = agent_client.post(
        reverse("orders:order_create", args=[photo.pk, "image_enhancement"]),
        {"scene": "indoor", "strength": "60"},
    )

    assert (
        "Choose at least one of: correct white balance, bring out detail in shadows, sharpen."
        in response.text
    )
    assert not Order.objects.exists()


def test_a_variation_of_a_variation_hangs_off_the_first_order(agent_client, photo):
    first = make_order(photo, service="day_to_dusk")
    agent_client.post(
        reverse("orders:order_variation", args=[first.pk]), {"sky_style": "blue_hour"}
    )
    second = Order.objects.exclude(pk=first.pk).get()

    agent_client.post(
        reverse("orders:order_variation", args=[second.pk]), {"sky_style": "pink_sunset"}
    )

    third = Order.objects.exclude(pk__in=[first.pk, second.pk]).get()
    assert second.parent == first and third.parent == first


def test_the_last_poll_updates_the_header_out_of_band(agent_client, photo, agent):
    order = make_order(photo, service="background_removal")  # fails: no subject in a test card
    run_order_task.call(order_id=order.pk)

    final = agent_client.get(order.get_absolute_url(), headers={"HX-Request": "true"})

    assert 'id="order-facts" class="option-list" hx-swap-oob="true"' in final.text
    assert "(refunded)" in final.text
    agent.refresh_from_db()
    assert (
        f'id="credit-balance" data-testid="credits" hx-swap-oob="true">{agent.credits}<'
        in final.text
    )


def test_a_capped_upscale_says_so(agent_client, photo, settings):
    settings.UPSCALE_MAX_PIXELS = 1_000_000  # the photo is 600 × 400; 4× would be 3.84 MP
    order = make_order(photo, service="upscale", scale="4")

    run_order_task.call(order_id=order.pk)

    page = agent_client.get(order.get_absolute_url())
    assert (
        "Enlarged 2.0× rather than 4×: 4× would have gone past the 1 megapixel limit." in page.text
    )


def test_share_downloads_name_nothing_of_the_listing_and_originals_are_clean(
    agent_client, client, project
):
    from PIL import Image

    from .images import jpeg_bytes as make_jpeg

    photo = make_photo(project, name="12-rue-des-lilas.jpg", data=make_jpeg(gps=True))
    order = make_order(photo)
    run_order_task.call(order_id=order.pk)
    agent_client.post(
        reverse("orders:share_create", args=["order", order.pk]),
        {"include_originals": "on", "allow_downloads": "on"},
    )
    link = ShareLink.objects.get()
    share_originals_task.call(link_id=str(link.pk))  # what the worker does
    result = order.results.get()

    full = client.get(
        reverse("orders:share_file", args=[link.token, "full", result.pk]) + "?download"
    )
    original = client.get(reverse("orders:share_file", args=[link.token, "original", photo.pk]))

    assert 'filename="image_enhancement-1.jpg"' in full["Content-Disposition"]
    assert "lilas" not in original["Content-Disposition"]
    data = b"".join(original.streaming_content)
    assert not Image.open(io.BytesIO(data)).getexif()
    assert b"PhoneMaker" not in data


def test_staff_who_may_view_orders_see_result_previews(client, done_order):
    from django.contrib.auth.models import Permission

    from .factories import make_user

    staff = make_user("staff@example.com", is_staff=True)
    client.force_login(staff)
    url = reverse("orders:result_file", args=[done_order.results.get().pk, "thumbnail"])
    assert client.get(url).status_code == 404

    staff.user_permissions.add(Permission.objects.get(codename="view_order"))

    assert client.get(url).status_code == 200


def test_a_project_link_shows_only_the_picked_results(agent_client, client, photo, done_order):
    other = make_order(photo, service="day_to_dusk")
    run_order_task.call(order_id=other.pk)
    picked, left_out = done_order.results.get(), other.results.get()
    gallery = agent_client.get(reverse("orders:project_gallery", args=[photo.project_id]))
    assert f'name="results" value="{left_out.pk}" checked' in gallery.text

    agent_client.post(
        reverse("orders:share_create", args=["project", photo.project_id]),
        {"results": [str(picked.pk), "not-a-uuid"]},
    )
    link = ShareLink.objects.get()
    page = client.get(link.get_absolute_url())

    assert reverse("orders:share_file", args=[link.token, "display", picked.pk]) in page.text
    assert str(left_out.pk) not in page.text
    assert (
        client.get(reverse("orders:share_file", args=[link.token, "full", left_out.pk])).status_code
        == 404
    )


def test_results_of_another_account_cannot_be_picked_into_a_link(
    agent_client, outsider, done_order, photo
):
    from .factories import make_project

    stranger_photo = make_photo(make_project(outsider))
    stranger_order = make_order(stranger_photo)
    run_order_task.call(order_id=stranger_order.pk)

    agent_client.post(
        reverse("orders:share_create", args=["project", photo.project_id]),
        {"results": [str(stranger_order.results.get().pk)]},
    )

    link = ShareLink.objects.get()
    assert not link.results.exists()
    assert list(link.shared_results()) == [done_order.results.get()]


def test_outsider_cannot_revoke_a_link(outsider_client, done_order):
    link = ShareLink.objects.create(owner=done_order.owner, order=done_order)

    response = outsider_client.post(reverse("orders:share_revoke", args=[link.pk]))

    assert response.status_code == 404
    link.refresh_from_db()
    assert link.revoked_at is None


def test_the_order_page_says_a_stalled_order_looks_stalled_and_changes_nothing(agent_client, photo):
    order = make_order(photo)
    lifecycle.order_claim(order)
    expired = timezone.now() - timedelta(minutes=10)
    Order.objects.filter(pk=order.pk).update(lease_expires_at=expired)

    page = agent_client.get(order.get_absolute_url())
    poll = agent_client.get(order.get_absolute_url(), headers={"HX-Request": "true"})

    assert 'data-testid="stalled"' in page.text and 'data-testid="stalled"' in poll.text
    after = Order.objects.get(pk=order.pk)
    assert (after.status, after.lease_expires_at) == ("processing", expired)  # GETs change nothing
    call_command("reap_orders")  # the scheduled reaper recovers it
    assert Order.objects.get(pk=order.pk).status == "queued"


def test_the_database_alone_opens_no_share_link(agent_client, client, done_order):
    agent_client.post(reverse("orders:share_create", args=["order", done_order.pk]))
    link = ShareLink.objects.get()
    stored = list(ShareLink.objects.values().get().values())

    assert len(link.token) == 43  # 256 bits, URL-safe, derived again for its owner
    assert link.token not in [str(value) for value in stored]
    assert client.get(link.get_absolute_url()).status_code == 200
    for guess in (link.token_digest, str(link.pk)):
        assert client.get(reverse("orders:share_page", args=[guess])).status_code == 404
    page = agent_client.get(done_order.get_absolute_url())
    assert link.get_absolute_url() in page.text  # the owner can copy it again


def test_a_link_made_before_tokens_were_derived_keeps_working(client, agent, done_order):
    from orders.models import token_digest

    link = services_share(agent, done_order)
    ShareLink.objects.filter(pk=link.pk).update(former_digest=token_digest("an-old-random-token"))

    assert client.get(reverse("orders:share_page", args=["an-old-random-token"])).status_code == 200
    assert client.get(link.get_absolute_url()).status_code == 200


def test_a_link_never_shows_more_than_its_picks(agent_client, client, photo, done_order):
    other = make_order(photo, service="day_to_dusk")
    run_order_task.call(order_id=other.pk)
    picked, left_out = done_order.results.get(), other.results.get()
    agent_client.post(
        reverse("orders:share_create", args=["project", photo.project_id]),
        {"results": [str(picked.pk)]},
    )
    link = ShareLink.objects.get()

    agent_client.post(reverse("orders:result_delete", args=[picked.pk]))
    page = client.get(link.get_absolute_url())

    assert page.status_code == 200
    assert str(left_out.pk) not in page.text
    assert "have been removed by the person who shared it" in page.text
    assert (
        client.get(reverse("orders:share_file", args=[link.token, "full", left_out.pk])).status_code
        == 404
    )


@pytest.mark.parametrize("days", ["365", "0", "-1", "7.5", "never"])
def test_an_expiry_the_form_does_not_offer_is_refused(agent_client, done_order, days):
    response = agent_client.post(
        reverse("orders:share_create", args=["order", done_order.pk]),
        {"expires_in_days": days},
        follow=True,
    )

    assert not ShareLink.objects.exists()
    assert "Choose when the link expires from the list" in response.text


def test_every_file_of_a_share_page_is_marked_noindex(client, agent, done_order):
    link = services_share(agent, done_order)
    result = done_order.results.get()
    urls = [
        reverse("orders:share_file", args=[link.token, kind, result.pk])
        for kind in ("full", "display", "thumbnail")
    ] + [reverse("orders:share_file", args=[link.token, "before", done_order.photo_id])]

    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert view_answer(response)["X-Robots-Tag"] == "noindex, nofollow", url


def services_share(agent, order: Order) -> ShareLink:
    from orders.services import share_link_create

    return share_link_create(owner=agent, subject=order, expires_at=None, include_originals=False)


def test_a_variation_of_a_painted_order_starts_from_its_mask(agent_client, photo, agent):
    area = np.zeros((photo.height, photo.width), bool)
    area[10:60, 10:60] = True
    parent = order_place(
        user=agent, photo=photo, service="item_removal_mask", options={},
        mask=mask_save(photo=photo, painted=area),
    )  # fmt: skip
    url = reverse("orders:order_variation", args=[parent.pk])

    form = agent_client.get(url)

    assert f'value="{parent.mask_id}"' in form.text  # the hidden mask_id the form sends
    assert parent.mask.get_file_url() in form.text  # and the editor loads that painting
    # The form sent unchanged (as the page sends it with the painting untouched):
    answer = agent_client.post(url, {"mask_id": str(parent.mask_id)})
    assert answer.status_code == 302, answer.text
    variation = Order.objects.exclude(pk=parent.pk).get()
    assert variation.parent == parent and variation.mask == parent.mask
