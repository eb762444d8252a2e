"""Order flows: placing (checked, charged, queued on commit), running, storing results
and recovering stranded orders, each safe to run twice."""

from datetime import timedelta

import pytest
from django.utils import timezone

from homedesign.accounts.credits import NotEnoughCredits
from orders import lifecycle, processing, services
from orders.models import Order, OrderResult
from orders.providers.base import result_image
from orders.tasks import run_order_task

from .factories import make_order

pytestmark = pytest.mark.django_db


def an_image():
    import numpy as np

    return result_image(np.full((40, 60, 3), 128, np.uint8))


def test_placing_charges_the_credits_and_queues_on_commit(
    photo, agent, django_capture_on_commit_callbacks
):
    before = agent.credits
    with django_capture_on_commit_callbacks() as callbacks:
        order = make_order(photo)

    agent.refresh_from_db()
    assert order.status == "queued"
    assert agent.credits == before - 1 == agent.credit_entries.get(kind="charge").balance_after
    assert len(callbacks) == 1  # the task is enqueued only once the order is committed


def test_not_enough_credits_says_how_many(photo, agent):
    agent.credits = 1
    agent.save()

    with pytest.raises(NotEnoughCredits, match="costs 2 credits and you have 1"):
        make_order(photo, service="day_to_dusk")
    assert not Order.objects.exists()
    agent.refresh_from_db()
    assert agent.credits == 1


def test_succeeding_twice_stores_results_once(photo):
    order = make_order(photo)
    lifecycle.order_claim(order)

    assert processing.order_finish(order, [an_image()]) is True
    assert processing.order_finish(order, [an_image()]) is False
    assert OrderResult.objects.filter(order=order).count() == 1
    assert Order.objects.get(pk=order.pk).status == "succeeded"


def test_stranded_order_is_queued_again_then_failed_with_refund(photo, agent, settings):
    settings.ORDER_MAX_ATTEMPTS = 2
    before = agent.credits
    order = make_order(photo)
    expire = {"lease_expires_at": timezone.now() - timedelta(seconds=1)}

    lifecycle.order_claim(order)
    Order.objects.filter(pk=order.pk).update(**expire)
    assert services.orders_reap_stranded() == 1
    assert Order.objects.get(pk=order.pk).status == "queued"

    lifecycle.order_claim(Order.objects.get(pk=order.pk))
    Order.objects.filter(pk=order.pk).update(**expire)
    services.orders_reap_stranded()

    order.refresh_from_db()
    agent.refresh_from_db()
    assert (order.status, order.credits_refunded) == ("failed", 1)
    assert agent.credits == before


def test_a_live_lease_is_left_alone(photo):
    order = make_order(photo)
    lifecycle.order_claim(order)

    assert services.orders_reap_stranded() == 0
    assert Order.objects.get(pk=order.pk).status == "processing"


def test_running_an_order_twice_does_nothing_the_second_time(photo):
    order = make_order(photo)

    run_order_task.call(order_id=order.pk)
    run_order_task.call(order_id=order.pk)

    order.refresh_from_db()
    assert (order.status, order.provider, order.progress) == ("succeeded", "local", 100)
    assert order.results.count() == 1


def test_a_service_nobody_here_serves_is_refused_before_charging(photo, agent):
    before = agent.credits

    with pytest.raises(services.OrderRefused, match="needs an AI HomeDesign API key"):
        make_order(photo, service="virtual_staging")

    agent.refresh_from_db()
    assert agent.credits == before and not Order.objects.exists()


def test_a_provider_gone_by_run_time_fails_the_order_with_the_reason_and_a_refund(
    photo, agent, settings
):
    before = agent.credits
    order = make_order(photo)
    settings.ORDER_PROVIDERS = {"image_enhancement": ["aihomedesign"]}  # reconfigured meanwhile

    run_order_task.call(order_id=order.pk)

    order.refresh_from_db()
    agent.refresh_from_db()
    assert order.status == "failed"
    assert order.message == "This edit cannot be done here: needs an AI HomeDesign API key."
    assert agent.credits == before
