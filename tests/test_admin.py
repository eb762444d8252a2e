import pytest
from django.urls import reverse

from homedesign.accounts.models import User

from .factories import Stored, make_photo, make_project, make_user


@pytest.fixture
def staff_client(client, db):
    client.force_login(make_user("boss@example.com", is_staff=True, is_superuser=True))
    return client


def test_staff_finds_a_user_by_agency_and_edits_credits_in_the_list(staff_client, agent):
    changelist = reverse("admin:accounts_user_changelist")
    page = staff_client.get(changelist, {"q": "Martin Immobilier"})
    assert agent.email in page.text

    response = staff_client.post(
        changelist,
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(agent.pk),
            "form-0-credits": "150",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.credits == 150


def test_staff_creates_a_user_by_email(staff_client):
    response = staff_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "new@example.com",
            "usable_password": "true",
            "password1": "a long enough passphrase 42",
            "password2": "a long enough passphrase 42",
        },
    )

    assert response.status_code == 302
    assert User.objects.filter(email="new@example.com").exists()


def test_project_admin_lists_searches_and_shows_photo_thumbnails(staff_client, agent):
    project = make_project(agent, name="Villa Rosa", address="Cannes")
    photo = make_photo(project)

    listing = staff_client.get(reverse("admin:projects_project_changelist"), {"q": "cannes"})
    detail = staff_client.get(reverse("admin:projects_project_change", args=[project.pk]))

    assert "Villa Rosa" in listing.text
    assert reverse("projects:photo_file", args=[photo.pk, "thumbnail"]) in detail.text


def test_photo_admin_filters_by_format_and_previews(staff_client, project):
    photo = make_photo(project)
    thumbnail = reverse("projects:photo_file", args=[photo.pk, "thumbnail"])

    listing = staff_client.get(
        reverse("admin:projects_photo_changelist"), {"format__exact": "JPEG"}
    )
    detail = staff_client.get(reverse("admin:projects_photo_change", args=[photo.pk]))

    assert thumbnail in listing.text
    assert thumbnail in detail.text
    assert staff_client.get(thumbnail).status_code == 200


def test_deleting_a_photo_in_the_admin_removes_its_files(
    staff_client, project, settings, django_capture_on_commit_callbacks
):
    photo = make_photo(project)
    original = Stored(photo.original.name)

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("admin:projects_photo_delete", args=[photo.pk]), {"post": "yes"})

    assert not original.exists()


def test_agents_cannot_open_the_admin(agent_client):
    response = agent_client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert "login" in response.url


def test_deleting_a_user_in_the_admin_removes_their_files(
    staff_client, agent, settings, django_capture_on_commit_callbacks
):
    photo = make_photo(make_project(agent))
    files = [Stored(name) for name in photo.stored_files()]

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("admin:accounts_user_delete", args=[agent.pk]), {"post": "yes"})

    assert not User.objects.filter(pk=agent.pk).exists()
    assert not any(f.exists() for f in files)


def test_credit_edits_by_staff_are_written_to_the_ledger(staff_client, agent):
    before = agent.credits
    staff_client.post(
        reverse("admin:accounts_user_change", args=[agent.pk]),
        {
            "email": agent.email,
            "name": agent.name,
            "agency": agent.agency,
            "credits": before + 30,
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
        },
    )

    agent.refresh_from_db()
    entry = agent.credit_entries.get()
    assert agent.credits == before + 30
    assert (entry.kind, entry.amount, entry.balance_after) == ("adjustment", 30, before + 30)
    assert entry.note == "by boss@example.com"


def test_order_actions_retry_cancel_refund_and_link_revoke(staff_client, agent, project):
    from orders.lifecycle import order_claim, order_fail
    from orders.models import Order, ShareLink
    from orders.services import share_link_create
    from orders.tasks import run_order_task

    from .factories import make_order

    photo = make_photo(project)
    failed, queued, done = make_order(photo), make_order(photo), make_order(photo)
    order_claim(failed)
    order_fail(failed, message="Broken.")
    run_order_task.call(order_id=done.pk)
    link = share_link_create(owner=agent, subject=done, expires_at=None, include_originals=False)
    changelist = reverse("admin:orders_order_changelist")

    def act(action, *orders):
        return staff_client.post(
            changelist,
            {"action": action, "_selected_action": [str(o.pk) for o in orders]},
            follow=True,
        )

    assert "1 order(s) queued again." in act("retry", failed).text
    assert "1 order(s) cancelled." in act("cancel", queued).text
    assert "1 order(s) refunded." in act("refund", done).text
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert (statuses[failed.pk], statuses[queued.pk]) == ("queued", "cancelled")
    assert Order.objects.get(pk=done.pk).credits_refunded == 1
    staff_client.post(
        reverse("admin:orders_sharelink_changelist"),
        {"action": "revoke", "_selected_action": [str(link.pk)]},
    )
    assert not ShareLink.objects.get().is_live


def test_retry_without_credits_is_reported_not_a_crash(staff_client, agent, project):
    from orders.lifecycle import order_claim, order_fail

    from .factories import make_order

    order = make_order(make_photo(project))
    order_claim(order)
    order_fail(order, message="Broken.")
    User.objects.filter(pk=agent.pk).update(credits=0)

    response = staff_client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "retry", "_selected_action": [str(order.pk)]},
        follow=True,
    )

    assert response.status_code == 200
    assert "This edit costs 1 credit and you have 0." in response.text


def test_order_admin_filters_and_shows_result_previews(staff_client, project):
    from orders.tasks import run_order_task

    from .factories import make_order

    order = make_order(make_photo(project))
    run_order_task.call(order_id=order.pk)

    listing = staff_client.get(
        reverse("admin:orders_order_changelist"),
        {"status__exact": "succeeded", "provider": "local"},
    )
    detail = staff_client.get(reverse("admin:orders_order_change", args=[order.pk]))

    assert str(order.owner) in listing.text
    thumbnail = reverse("orders:result_file", args=[order.results.get().pk, "thumbnail"])
    assert thumbnail in detail.text
    assert staff_client.get(thumbnail).status_code == 200


def test_rendition_admin_lists_filters_links_and_is_read_only(
    staff_client, project, settings, django_capture_on_commit_callbacks
):
    from orders.models import Rendition

    from .factories import make_finished_order

    order = make_finished_order(make_photo(project), service="virtual_staging")
    rendition = order.results.get().renditions.get(kind="mls")
    changelist = reverse("admin:orders_rendition_changelist")

    listing = staff_client.get(changelist, {"kind": "mls", "q": project.name})
    detail = staff_client.get(reverse("admin:orders_rendition_change", args=[rendition.pk]))

    assert listing.status_code == 200
    assert "Virtually staged · " in listing.text and "bottom right" in listing.text
    assert listing.text.count('class="admin-thumb"') == 1  # only the MLS one
    assert reverse("admin:orders_order_change", args=[order.pk]) in listing.text
    assert reverse("admin:projects_project_change", args=[project.pk]) in listing.text
    assert 'name="label"' not in detail.text and "Save" not in detail.text  # view only
    assert staff_client.get(reverse("admin:orders_rendition_add")).status_code == 403

    path = Stored(rendition.file.name)
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            changelist,
            {"action": "delete_selected", "_selected_action": [rendition.pk], "post": "yes"},
        )
    assert not Rendition.objects.filter(pk=rendition.pk).exists()
    assert not path.exists()  # the file went with it; the worker makes it again if asked


def test_listing_zip_admin_shows_status_links_and_builds_a_failed_one_again(
    staff_client, project, django_capture_on_commit_callbacks
):
    from orders.models import ListingZip
    from orders.services import listing_zip_create
    from orders.tasks import listing_zip_task

    from .factories import make_finished_order

    result = make_finished_order(make_photo(project), service="virtual_staging").results.get()
    archive = listing_zip_create(
        owner=project.owner, project=project, result_ids=[str(result.pk)], size="mls",
        include_originals=False,
    )  # fmt: skip
    ListingZip.objects.filter(pk=archive.pk).update(
        status="failed", builds=2, message="The ZIP could not be finished."
    )
    changelist = reverse("admin:orders_listingzip_changelist")

    listing = staff_client.get(changelist, {"status__exact": "failed"})
    detail = staff_client.get(reverse("admin:orders_listingzip_change", args=[archive.pk]))

    assert reverse("admin:projects_project_change", args=[project.pk]) in listing.text
    assert reverse("admin:orders_order_change", args=[result.order_id]) in detail.text
    assert "The ZIP could not be finished." in detail.text
    assert "Save" not in detail.text

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            changelist, {"action": "build_again", "_selected_action": [archive.pk]}, follow=True
        )
    assert "1 ZIP(s) queued again." in response.text
    archive.refresh_from_db()
    assert (archive.status, archive.builds, archive.message) == ("queued", 0, "")

    listing_zip_task.call(zip_id=str(archive.pk))
    assert ListingZip.objects.get(pk=archive.pk).status == "ready"
