"""Every page of the foundation at desktop and tablet width: screenshots to look at, and
no page wider than the screen."""

import pytest
from django.urls import reverse

from ..factories import PASSWORD, make_photo, make_project, make_user

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
