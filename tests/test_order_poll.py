"""The order status poll, asked every 2 s by every open order page, and the pages whose cost
could grow with an account's history: each is a fixed number of queries, whatever the size
of the queue, the gallery or the dashboard. (How fast they are is measured by `make bench`.)
"""

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders import lifecycle
from orders.models import Order
from orders.services import share_link_create
from orders.tasks import run_order_task
from orders.views import QUEUE_AHEAD_SHOWN

from .factories import make_copies_of, make_order, make_photo, make_project, make_user

HTMX = {"HX-Request": "true"}


def poll(client, order):
    return client.get(order.get_absolute_url(), headers=HTMX)


def test_polling_a_queued_order_takes_two_queries(
    agent_client, photo, django_assert_max_num_queries
):
    order = make_order(photo)
    poll(agent_client, order)  # the session is now in the cache, as after any first request

    # The user; the order with its place in the queue.
    with django_assert_max_num_queries(2):
        response = poll(agent_client, order)

    assert response.status_code == 200 and 'hx-trigger="every 2s"' in response.text
    assert f'hx-get="{order.get_absolute_url()}"' in response.text  # asks again, same order
    assert "Next in line." in response.text


def test_polling_an_order_in_progress_takes_two_queries(
    agent_client, photo, django_assert_max_num_queries
):
    order = make_order(photo)
    lifecycle.order_claim(order)
    lifecycle.order_heartbeat(order, progress=40, eta_seconds=30)
    poll(agent_client, order)

    with django_assert_max_num_queries(2):
        response = poll(agent_client, order)

    assert response.status_code == 200 and "40% done, ready in about 30 seconds" in response.text


def test_the_last_poll_swaps_in_the_gallery_in_five_queries(
    agent_client, photo, django_assert_max_num_queries
):
    order = make_order(photo)
    poll(agent_client, order)
    run_order_task.call(order_id=order.pk)

    # Once per order page: the user, the order's progress (finished), then the whole order
    # with its photo and listing, its results and its share links.
    with django_assert_max_num_queries(5):
        response = poll(agent_client, order)

    result = order.results.get()
    assert response.status_code == 286 and 'data-testid="gallery"' in response.text
    assert reverse("orders:result_download", args=[result.pk, "mls"]) in response.text
    assert 'id="credit-balance"' in response.text  # the header, out of band


def test_the_last_poll_lists_a_link_made_meanwhile_in_another_tab(agent_client, agent, done_order):
    link = share_link_create(owner=agent, subject=done_order, expires_at=None,
                             include_originals=False)  # fmt: skip

    response = poll(agent_client, done_order)

    assert link.get_absolute_url() in response.text


def test_a_poll_reads_the_session_from_the_database_once_per_web_process(agent_client, photo):
    order = make_order(photo)
    lifecycle.order_claim(order)
    cache.clear()  # a web process that has not seen this agent yet

    with CaptureQueriesContext(connection) as first:
        poll(agent_client, order)
    with CaptureQueriesContext(connection) as second:
        poll(agent_client, order)

    assert "django_session" in first.captured_queries[0]["sql"]
    assert not any("django_session" in query["sql"] for query in second.captured_queries)


def test_a_waiting_order_counts_the_orders_ahead_of_it(agent_client, photo):
    first, second, mine = (make_order(photo) for _ in range(3))

    response = poll(agent_client, mine)

    assert "2 orders ahead of yours." in response.text
    lifecycle.order_claim(first)
    assert "1 order ahead of yours." in poll(agent_client, mine).text
    assert "Next in line." in poll(agent_client, second).text


def test_a_long_queue_is_counted_only_up_to_a_cap(agent_client, photo):
    ahead = make_order(photo)
    make_copies_of(ahead, QUEUE_AHEAD_SHOWN + 20)
    mine = make_order(photo)
    poll(agent_client, mine)

    with CaptureQueriesContext(connection) as queries:
        response = poll(agent_client, mine)

    assert f"More than {QUEUE_AHEAD_SHOWN} orders ahead of yours." in response.text
    (counting,) = [q["sql"] for q in queries.captured_queries if "COUNT" in q["sql"]]
    assert f"LIMIT {QUEUE_AHEAD_SHOWN + 1}" in counting  # never the whole queue


def test_orders_that_are_not_waiting_have_no_place_in_the_queue(photo):
    order = make_order(photo)
    lifecycle.order_claim(order)

    assert Order.objects.with_queue_ahead(up_to=5).get(pk=order.pk).queue_ahead is None


def test_the_queue_position_counts_other_agents_orders_too(agent_client, photo):
    other = make_user("other@example.com")
    their_photo = make_photo(make_project(other))
    make_order(their_photo)
    mine = make_order(photo)

    assert "1 order ahead of yours." in poll(agent_client, mine).text


def test_the_full_order_page_still_shows_the_place_in_the_queue(agent_client, photo):
    make_order(photo)
    mine = make_order(photo)

    page = agent_client.get(mine.get_absolute_url())

    assert "<html" in page.text and "1 order ahead of yours." in page.text


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries.captured_queries)


def test_the_project_gallery_costs_the_same_queries_for_3_or_100_results(
    agent_client, project, done_order
):
    url = reverse("orders:project_gallery", args=[project.pk])
    make_copies_of(done_order, 2)
    small = queries_for(agent_client, url)
    # 100 results: 60 orders and 40 variations of one of them, on 3 photos.
    other_photos = [make_photo(project, name=f"room-{n}.jpg") for n in range(2)]
    roots = make_copies_of(done_order, 60 - 3, photo=other_photos[0])
    make_copies_of(done_order, 40, parent=roots[0], photo=other_photos[1])
    page = agent_client.get(url)
    assert page.text.count('class="tile-caption"') == 100

    assert queries_for(agent_client, url) == small <= 10


def test_the_dashboard_costs_the_same_queries_for_1_or_40_projects(agent_client, agent, photo):
    url = reverse("projects:project_list")
    small = queries_for(agent_client, url)
    for number in range(39):
        make_photo(make_project(agent, name=f"Listing {number}"))

    assert queries_for(agent_client, url) == small <= 4


def test_the_photo_gallery_costs_the_same_queries_for_3_or_60_orders(
    agent_client, photo, done_order
):
    url = reverse("orders:photo_gallery", args=[photo.pk])
    make_copies_of(done_order, 2)
    small = queries_for(agent_client, url)
    make_copies_of(done_order, 57)

    assert queries_for(agent_client, url) == small


def test_the_cancel_button_leaves_with_the_queue_and_polls_carry_no_csrf_token(agent_client, photo):
    order = make_order(photo)
    page = agent_client.get(order.get_absolute_url())
    queued = poll(agent_client, order)
    lifecycle.order_claim(order)
    started = poll(agent_client, order)

    assert reverse("orders:order_cancel", args=[order.pk]) in page.text
    assert "csrfmiddlewaretoken" not in queued.text and 'id="order-cancel"' not in queued.text
    assert '<div id="order-cancel" hx-swap-oob="true"></div>' in started.text
