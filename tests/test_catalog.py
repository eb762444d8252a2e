import pytest

from orders.catalog import SERVICES, MaskUse, clean_options, get_service
from orders.forms import order_form_class

EXPECTED = {
    "virtual_staging", "interior_design", "image_enhancement", "day_to_dusk", "item_removal",
    "item_removal_mask", "declutter", "exterior_creation", "background_removal", "upscale",
}  # fmt: skip


def test_every_service_of_the_design_is_in_the_catalogue():
    assert set(SERVICES) == EXPECTED
    for service in SERVICES.values():
        assert service.label and service.description and service.credits > 0
        assert service.providers


def test_options_have_the_real_choices_agents_expect():
    staging = get_service("virtual_staging")
    rooms = dict(staging.options[0].choices)
    styles = dict(staging.options[1].choices)
    assert {"living_room", "bedroom", "kitchen", "dining_room", "bathroom", "home_office",
            "kids_room", "outdoor"} <= set(rooms)  # fmt: skip
    assert {"modern", "scandinavian", "industrial", "farmhouse", "coastal", "luxury",
            "contemporary", "traditional"} <= set(styles)  # fmt: skip
    exterior = get_service("exterior_creation")
    assert exterior.mask == MaskUse.REQUIRED
    assert dict(exterior.options[0].choices).keys() == {"TERRACE", "POOL", "PETANQUE"}
    assert dict(get_service("upscale").options[0].choices).keys() == {"2", "4"}


def test_clean_options_fills_defaults_and_drops_unknown_names():
    cleaned = clean_options(get_service("day_to_dusk"), {"sky_style": "blue_hour", "evil": 1})

    assert cleaned == {"sky_style": "blue_hour", "remove_shadows": True}


@pytest.mark.parametrize(
    ("service", "options", "message"),
    [
        ("virtual_staging", {"style": "gothic"}, "Style: 'gothic' is not one of the choices"),
        ("upscale", {"scale": "8"}, "Scale: '8' is not one of the choices"),
        ("exterior_creation", {"exterior_type": "GARDEN"}, "Create: 'GARDEN' is not one"),
        ("day_to_dusk", {"remove_shadows": "yes"}, "Soften harsh shadows: expected true or false"),
    ],
)
def test_clean_options_refuses_bad_values(service, options, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        clean_options(get_service(service), options)


def test_forms_come_from_the_catalogue():
    form_class = order_form_class(get_service("exterior_creation"))

    assert list(form_class().fields) == ["exterior_type", "mask_id", "mask"]
    without_mask = form_class({"exterior_type": "POOL"})
    assert not without_mask.is_valid()
    assert without_mask.non_field_errors() == ["Paint the area to change first."]
    declutter = order_form_class(get_service("declutter"))({"auto": "on"})
    assert declutter.is_valid()  # the mask is optional there
    assert "mask" not in order_form_class(get_service("upscale"))().fields
