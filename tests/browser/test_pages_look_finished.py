"""Every page of the foundation at desktop and tablet width: screenshots to look at, and
no page wider than the screen."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from orders import lifecycle
from orders.models import Order
from orders.services import share_link_create
from orders.tasks import run_order_task

from ..factories import PASSWORD, make_order, make_photo, make_project, make_user

WIDTHS = {"desktop": 1280, "tablet": 820}
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_the_screen(page, screenshot, live_server, width):
    user = make_user("pages@example.com", name="Paula Pages", agency="Pages Immobilier")
    project = make_project(user, name="Loft Canal Saint-Martin", address="3 Quai de Jemmapes")
    photo = make_photo(project, name="a-rather-long-photo-name-from-the-camera-0001.jpg")
    page.set_viewport_size({"width": WIDTHS[width], "height": 900})

    public = {
        "login": reverse("accounts:login"),
        "signup": reverse("accounts:signup"),
        "password-reset": reverse("accounts:password_reset"),
    }
    for name, url in public.items():
        page.goto(url)
        assert page.evaluate(NO_SIDEWAYS_SCROLL), name
        screenshot(f"{name}-{width}")

    page.goto(reverse("accounts:login"))
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    private = {
        "dashboard": reverse("projects:project_list"),
        "project-new": reverse("projects:project_create"),
        "project": reverse("projects:project_detail", args=[project.pk]),
        "project-edit": reverse("projects:project_edit", args=[project.pk]),
        "project-delete": reverse("projects:project_delete", args=[project.pk]),
        "photo": reverse("projects:photo_detail", args=[photo.pk]),
        "photo-delete": reverse("projects:photo_delete", args=[photo.pk]),
        "profile": reverse("accounts:profile"),
        "password-change": reverse("accounts:password_change"),
    }
    for name, url in private.items():
        response = page.goto(url)
        assert response.status == 200, name
        assert page.evaluate(NO_SIDEWAYS_SCROLL), name
        screenshot(f"{name}-{width}")


ORDER_WIDTHS = {"desktop": 1280, "tablet": 820, "phone": 390}


@pytest.mark.parametrize("width", ORDER_WIDTHS)
def test_order_and_share_pages_fit_the_screen(page, screenshot, live_server, width):
    user = make_user("orders@example.com", name="Olga Orders")
    project = make_project(user, name="Maison Lilas")
    photo = make_photo(project, name="living-room.jpg")
    done = make_order(photo)
    run_order_task.call(order_id=str(done.pk))
    stalled = make_order(photo, service="day_to_dusk")
    lifecycle.order_claim(stalled)
    Order.objects.filter(pk=stalled.pk).update(
        lease_expires_at=timezone.now() - timedelta(minutes=5), progress=40
    )
    picked = done.results.get()
    link = share_link_create(
        owner=user, subject=project, expires_at=None, include_originals=False,
        result_ids=[str(picked.pk)],
    )  # fmt: skip
    page.set_viewport_size({"width": ORDER_WIDTHS[width], "height": 900})

    page.goto(link.get_absolute_url())
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    screenshot(f"share-page-{width}")
    page.goto(reverse("accounts:login"))
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(stalled.get_absolute_url())
    assert page.get_by_test_id("stalled").is_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    screenshot(f"order-stalled-{width}")
    page.goto(done.get_absolute_url())
    page.select_option("select[name=expires_in_days]", "30")
    # A value the form does not offer, as a hand-edited request would send it.
    page.evaluate(
        "document.querySelector('select[name=expires_in_days] option:checked').value = '365'"
    )
    page.get_by_role("button", name="Create share link").click()
    assert page.get_by_text("Choose when the link expires from the list").is_visible()
    screenshot(f"share-refused-{width}")
    page.goto(reverse("orders:result_delete", args=[picked.pk]))
    page.get_by_role("button", name="Delete result").click()
    page.goto(link.get_absolute_url())
    assert page.get_by_test_id("nothing-shared").is_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    screenshot(f"share-picks-removed-{width}")
