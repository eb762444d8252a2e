"""Every page is sent a Content-Security-Policy, and the pages work under it in Chromium:
the `page` fixture fails any browser test whose pages had something blocked."""

from django.contrib.auth.models import Permission
from django.urls import reverse
from playwright.sync_api import expect

from ..factories import PASSWORD, make_photo, make_project, make_user
from .conftest import csp_violations


def log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Projects")).to_be_visible()


def test_pages_send_a_policy_that_allows_only_this_site(page):
    response = page.goto("/accounts/login/")

    policy = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_an_injected_inline_script_is_blocked_and_reported(browser, live_server):
    """The check the `page` fixture relies on sees a violation when there is one."""
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    violations = csp_violations(page)
    page.goto("/accounts/login/")

    page.evaluate(
        """() => { const s = document.createElement("script");
                   s.textContent = "window.injected = true"; document.body.append(s); }"""
    )

    expect(page.locator("body")).to_be_visible()
    page.wait_for_function("() => true")
    assert page.evaluate("window.injected") is None
    assert any("script-src" in text for text in violations), violations
    context.close()


def test_staff_admin_pages_work_under_the_policy(page):
    staff = make_user("staff@example.com", is_staff=True, is_superuser=True)
    project = make_project(make_user("agent@example.com"), name="Villa Rose")
    make_photo(project)
    staff.user_permissions.add(Permission.objects.get(codename="view_photo"))
    page.goto(reverse("admin:login"))
    page.get_by_label("E-mail address").fill(staff.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Accounts, projects and photos")).to_be_visible()

    for url in (
        reverse("admin:accounts_user_changelist"),
        reverse("admin:accounts_user_change", args=[staff.pk]),
        reverse("admin:projects_photo_changelist"),
        reverse("admin:axes_accessattempt_changelist"),
        reverse("admin:orders_order_changelist"),
    ):
        assert page.goto(url).status == 200, url
        page.wait_for_load_state("load")


def test_htmx_uploads_and_menus_work_under_the_policy(page):
    agent = make_user("csp@example.com")
    project = make_project(agent, name="Loft")
    log_in(page, agent.email)

    page.goto(project.get_absolute_url())
    page.locator("#photo-input").set_input_files(
        [{"name": "room.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}]
    )
    expect(page.locator(".upload-row").filter(has_text="Uploaded")).to_have_count(1)
    page.get_by_label("Account menu").click()
    expect(page.get_by_role("link", name="Profile & credits")).to_be_visible()


def _jpeg() -> bytes:
    from ..images import jpeg_bytes

    return jpeg_bytes((800, 600))
