"""The seller's review: a share link made for review takes approvals and change requests,
the agent sees them, and answers with a variation the seller sees on the same link."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders import services
from orders.models import Order, Review, ShareLink
from orders.tasks import run_order_task

from .factories import make_order, make_photo, make_project


@pytest.fixture
def done_order(project):
    order = make_order(make_photo(project), service="day_to_dusk")
    run_order_task.call(order_id=str(order.pk))
    order.refresh_from_db()
    return order


@pytest.fixture
def review_link(agent, done_order):
    return services.share_link_create(
        owner=agent,
        subject=done_order.photo.project,
        expires_at=None,
        include_originals=False,
        result_ids=[str(done_order.results.get().pk)],
        for_review=True,
    )


def answer(link: ShareLink, result_id, verdict: str, comment: str = ""):
    visitor = Client()
    visitor.get(link.get_absolute_url())
    return visitor.post(
        reverse("orders:share_review", args=[link.token]),
        {"result": str(result_id), "verdict": verdict, "comment": comment},
        follow=True,
    )


def test_the_seller_approves_and_asks_for_changes_and_the_agent_sees_both(
    agent_client, review_link, done_order
):
    result = done_order.results.get()
    page = Client().get(review_link.get_absolute_url())
    assert 'name="verdict" value="approved"' in page.text

    approved = answer(review_link, result.pk, "approved")
    changes = answer(review_link, result.pk, "changes", "A pinker sky, <b>please</b>")

    assert "Thank you: the agent sees your answer." in approved.text
    assert "You asked for a change" in changes.text
    assert "A pinker sky, &lt;b&gt;please&lt;/b&gt;" in changes.text  # plain text, escaped
    gallery = agent_client.get(reverse("orders:project_gallery", args=[review_link.project_id]))
    assert "Change requested" in gallery.text and "Approved" in gallery.text
    assert 'title="Change requests from sellers waiting for you">1<' in gallery.text
    assert Review.objects.filter(link=review_link).count() == 2


def test_a_variation_answers_the_request_and_shows_on_the_same_link(
    agent_client, review_link, done_order
):
    result = done_order.results.get()
    answer(review_link, result.pk, "changes", "Try the blue hour")
    review = Review.objects.get()

    form_url = reverse("orders:order_variation", args=[done_order.pk]) + f"?answers={review.pk}"
    placed = agent_client.post(form_url, {"sky_style": "blue_hour", "remove_shadows": "on"})
    variation = Order.objects.exclude(pk=done_order.pk).get()
    run_order_task.call(order_id=str(variation.pk))

    assert placed.url == variation.get_absolute_url()
    review.refresh_from_db()
    assert review.answered_by == variation and not review.is_waiting
    page = Client().get(review_link.get_absolute_url())
    assert str(variation.results.get().pk) in page.text  # on the link that only had the pick
    header = agent_client.get(reverse("orders:review_list"))
    assert 'data-testid="reviews-waiting"' not in header.text
    assert "Answered with" in header.text


@pytest.mark.parametrize(
    ("change", "verdict", "comment", "message"),
    [
        ("revoked", "approved", "", "This link no longer takes reviews."),
        ("expired", "approved", "", "This link no longer takes reviews."),
        ("not-for-review", "approved", "", "This link no longer takes reviews."),
        ("", "changes", "x" * 1001, "Please keep the comment under 1000 characters."),
        ("", "changes", "   ", "Say what should change"),
        ("", "delete-everything", "", "Choose whether you approve"),
    ],
)
def test_what_a_review_cannot_be_is_refused_and_stores_nothing(
    review_link, done_order, change, verdict, comment, message
):
    if change == "revoked":
        services.share_link_revoke(link=review_link)
    elif change == "expired":
        ShareLink.objects.filter(pk=review_link.pk).update(expires_at=timezone.now())
    elif change == "not-for-review":
        ShareLink.objects.filter(pk=review_link.pk).update(for_review=False)
    review_link.refresh_from_db()

    with pytest.raises(services.ReviewRefused, match=message):
        services.review_submit(
            link=review_link,
            result_id=str(done_order.results.get().pk),
            verdict=verdict,
            comment=comment,
        )
    assert not Review.objects.exists()


def test_a_review_can_only_be_about_a_result_on_its_page(agent, review_link, project):
    other = make_order(make_photo(project, name="other.jpg"))
    run_order_task.call(order_id=str(other.pk))
    stranger = make_order(make_photo(make_project(agent, name="Another listing")))
    run_order_task.call(order_id=str(stranger.pk))

    for result_id in (other.results.get().pk, stranger.results.get().pk, "not-a-uuid"):
        response = answer(review_link, result_id, "approved")
        assert "That photo is not on this page." in response.text
    assert not Review.objects.exists()


def test_reviews_are_rate_limited_per_link(review_link, done_order, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    result_id = str(done_order.results.get().pk)
    for _ in range(services.REVIEWS_PER_HOUR):
        services.review_submit(
            link=review_link, result_id=result_id, verdict="approved", comment=""
        )

    with pytest.raises(services.ReviewRefused, match="Too many answers"):
        services.review_submit(
            link=review_link, result_id=result_id, verdict="approved", comment=""
        )
    assert Review.objects.count() == services.REVIEWS_PER_HOUR


def test_another_agent_sees_none_of_these_reviews_nor_can_answer_them(
    outsider_client, review_link, done_order
):
    answer(review_link, done_order.results.get().pk, "changes", "Less clutter")
    review = Review.objects.get()

    listing = outsider_client.get(reverse("orders:review_list"))
    variation = outsider_client.get(
        reverse("orders:order_variation", args=[done_order.pk]) + f"?answers={review.pk}"
    )

    assert "Less clutter" not in listing.text
    assert variation.status_code == 404
    anonymous = Client().get(reverse("orders:review_list"))
    assert anonymous.status_code == 302 and "/login/" in anonymous.url


def test_a_review_posted_to_a_made_up_link_finds_nothing(client, db):
    response = client.post(
        reverse("orders:share_review", args=["made-up-token"]),
        {"result": "00000000-0000-0000-0000-000000000000", "verdict": "approved"},
    )

    assert response.status_code == 404 and not Review.objects.exists()
