"""Routing services to providers (ORDER_PROVIDERS) is checked when the site starts: a
service routed to a provider that cannot serve it is a system check error naming the
setting; should it run anyway, such an order is refused before it is charged."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from orders.catalog import SERVICES
from orders.services import OrderRefused, order_place

from .test_settings_and_serve import manage


def test_manage_check_refuses_staging_routed_to_the_local_engine(tmp_path):
    env = {"DATA_DIR": str(tmp_path), "ORDER_PROVIDERS": "virtual_staging=aihomedesign,local"}

    checked = manage("check", env=env)

    assert checked.returncode != 0
    assert "orders.E002" in checked.stderr
    assert "ORDER_PROVIDERS routes virtual_staging to 'local': it cannot serve it" in (
        checked.stderr
    )
    assert "Virtual staging can be served by: aihomedesign" in checked.stderr


@pytest.mark.parametrize(
    ("routing", "message"),
    [
        ({"virtual_staging": ["local"]}, "routes virtual_staging to 'local': it cannot"),
        ({"exterior_creation": ["aihomedesign"]}, "to 'aihomedesign': it cannot serve it"),
        ({"upscale": ["adcreative"]}, "routes upscale to 'adcreative': it cannot serve it"),
        ({"upscale": ["locl"]}, "routes upscale to 'locl': no such provider"),
        ({"staging": ["aihomedesign"]}, "routes 'staging', which is not a service"),
    ],
)
def test_a_routing_no_provider_can_serve_is_a_check_error(settings, routing, message):
    settings.ORDER_PROVIDERS = routing
    with pytest.raises(SystemCheckError, match=message):
        call_command("check")


def test_the_catalogues_own_routing_and_every_sound_one_pass(settings):
    settings.ORDER_PROVIDERS = {key: list(service.providers) for key, service in SERVICES.items()}
    call_command("check")
    settings.ORDER_PROVIDERS = {"item_removal_mask": ["object_remover", "local"]}
    call_command("check")


def test_an_order_routed_to_a_provider_that_cannot_serve_it_is_refused_before_charging(
    settings, agent, sideways_photo
):
    settings.AIHOMEDESIGN_API_KEY = ""
    settings.ORDER_PROVIDERS = {"virtual_staging": ["aihomedesign", "local"]}
    credits = agent.credits
    options = {"room_type": "bedroom", "style": "modern", "results": 1}

    with pytest.raises(OrderRefused, match="Local engine has no virtual staging here"):
        order_place(user=agent, photo=sideways_photo, service="virtual_staging", options=options)

    agent.refresh_from_db()
    assert agent.credits == credits
