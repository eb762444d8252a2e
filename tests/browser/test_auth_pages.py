"""The sign-up steps and the login lockout, as an agent sees them on a desktop, a tablet and
a phone."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from ..factories import PASSWORD, make_user

WIDTHS = {"desktop": 1280, "tablet": 820, "phone": 390}
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


@pytest.mark.parametrize("width", WIDTHS)
def test_sign_up_steps_fit_the_screen(page, screenshot, width):
    page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    page.goto("/accounts/signup/")
    page.get_by_label("E-mail address").fill(f"lea.{width}@agence-lumiere.fr")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    screenshot(f"signup-{width}")

    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    screenshot(f"signup-sent-{width}")

    page.goto(re.search(r"http://\S+", mail.outbox[-1].body).group(0))
    expect(page.get_by_text(f"lea.{width}@agence-lumiere.fr")).to_be_visible()
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Password confirmation").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("This password is too short.")).to_be_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    screenshot(f"signup-complete-{width}")


def test_a_locked_out_login_says_why_and_what_to_do(page, screenshot):
    user = make_user("locked@example.com")
    page.goto("/accounts/login/")
    for n in range(5):
        page.get_by_label("E-mail address").fill(user.email)
        page.get_by_label("Password").fill(f"wrong {n}")
        page.get_by_role("button", name="Log in").click()
    lockout = page.get_by_test_id("lockout")
    expect(lockout).to_contain_text("Logging in is paused for 15 minutes.")

    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(lockout).to_be_visible()
    for name, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate(NO_SIDEWAYS_SCROLL), name
        screenshot(f"login-locked-out-{name}")
