"""The order form tells the agent what this installation will really do before any credit
is spent: the enlargement a photo really gets, the mode decluttering can really run in, and
a waiting time that reads right under a minute."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from orders.models import Order
from orders.templatetags.order_eta import ready_in

from .factories import make_order


def test_upscale_form_says_the_factor_a_large_photo_really_gets(agent_client, photo, settings):
    settings.UPSCALE_MAX_PIXELS = 500_000  # 2× of 600 × 400 would be 960,000 pixels

    html = agent_client.get(reverse("orders:order_create", args=[photo.pk, "upscale"])).text

    assert "2× becomes 1.4×" in html and "4× becomes 1.4×" in html


def test_upscale_form_says_nothing_more_when_the_photo_gets_what_it_asks(agent_client, photo):
    response = agent_client.get(reverse("orders:order_create", args=[photo.pk, "upscale"]))

    assert 'data-testid="offer-note"' not in response.text


def test_upscale_of_a_photo_at_the_limit_is_refused_before_charging(
    agent_client, photo, agent, settings
):
    settings.UPSCALE_MAX_PIXELS = 250_000  # 1.02× at most
    credits = agent.credits

    response = agent_client.post(
        reverse("orders:order_create", args=[photo.pk, "upscale"]), {"scale": "2"}
    )

    assert "already as large as the local upscaler goes" in response.text
    agent.refresh_from_db()
    assert agent.credits == credits and not Order.objects.exists()


def test_declutter_opens_with_painting_when_only_the_local_engine_can_do_it(agent_client, photo):
    html = agent_client.get(reverse("orders:order_create", args=[photo.pk, "declutter"])).text

    checkbox = html[html.index('name="auto"') - 200 : html.index('name="auto"') + 200]
    assert "checked" not in checkbox
    assert "Paint the clutter to remove" in html


def test_an_order_due_in_under_a_minute_says_seconds(agent_client, photo):
    order = make_order(photo)
    Order.objects.filter(pk=order.pk).update(
        status="processing",
        progress=40,
        eta=timezone.now() + timedelta(seconds=38),
        lease_expires_at=timezone.now() + timedelta(minutes=5),
    )

    html = agent_client.get(order.get_absolute_url()).text

    assert "ready in about 40 seconds" in html
    assert "0 minutes" not in html


def test_waiting_times_read_naturally():
    now = timezone.now()

    assert ready_in(now + timedelta(seconds=3)) == "in a few seconds"
    assert ready_in(now + timedelta(seconds=24)) == "in about 20 seconds"
    assert ready_in(now + timedelta(minutes=3, seconds=5)) == "in about 3\xa0minutes"
