"""The service catalogue: the one place that says what can be ordered.

Forms, validation, the admin, the order pages and the provider routing all read this table.
Providers translate these option values into their own (see orders/providers/).
"""

from dataclasses import dataclass
from enum import StrEnum


class MaskUse(StrEnum):
    NONE = "none"
    OPTIONAL = "optional"
    REQUIRED = "required"


class OptionKind(StrEnum):
    CHOICE = "choice"
    BOOL = "bool"
    INT = "int"


@dataclass(frozen=True)
class Option:
    name: str
    label: str
    kind: OptionKind
    default: str | bool | int
    choices: tuple[tuple[str, str], ...] = ()
    min_value: int | None = None
    max_value: int | None = None
    help_text: str = ""


@dataclass(frozen=True)
class Service:
    key: str
    label: str
    description: str
    credits: int
    providers: tuple[str, ...]
    mask: MaskUse = MaskUse.NONE
    options: tuple[Option, ...] = ()
    variations: bool = False
    max_results: int = 1
    mask_hint: str = ""
    # Removal fills the painted area from its surroundings: past half the photo there are
    # too few surroundings left to fill from.
    max_mask_share: float = 1.0
    # Options of which at least one must be on (an enhancement with every toggle off is a
    # copy of the photo, not worth a credit).
    at_least_one: tuple[str, ...] = ()
    # An option that must be off when a mask is painted (the two ask for different jobs).
    mask_excludes: str = ""
    # Disclosure: the wording listing portals and MLS rules ask for on a photo this service
    # changed ("" for none: an enhanced photo shows the same room), and whether the label
    # is burned into delivered images unless the project says otherwise.
    disclosure: str = ""
    label_by_default: bool = False
    # IPTC Digital Source Type of a result (the term after .../digitalsourcetype/): when a
    # trained model made it (remote providers, an installed model), and when the local
    # engine's classical algorithms did.
    source_type: str = "algorithmicallyEnhanced"
    local_source_type: str = "algorithmicallyEnhanced"
    # How a result is named, from its choices: "{style} {room_type}" -> "Scandinavian
    # living room". Empty: the choices joined, as Order.short_label.
    caption: str = ""

    @property
    def option_names(self) -> list[str]:
        return [option.name for option in self.options]

    def default_options(self) -> dict:
        return {option.name: option.default for option in self.options}


ROOM_TYPES = (
    ("living_room", "Living room"),
    ("bedroom", "Bedroom"),
    ("kitchen", "Kitchen"),
    ("dining_room", "Dining room"),
    ("bathroom", "Bathroom"),
    ("home_office", "Home office"),
    ("kids_room", "Kids room"),
    ("outdoor", "Outdoor"),
)
STYLES = (
    ("modern", "Modern"),
    ("scandinavian", "Scandinavian"),
    ("industrial", "Industrial"),
    ("farmhouse", "Farmhouse"),
    ("coastal", "Coastal"),
    ("luxury", "Luxury"),
    ("contemporary", "Contemporary"),
    ("traditional", "Traditional"),
)
COLOURS = (
    ("any", "Let the designer choose"),
    ("warm_neutrals", "Warm neutrals"),
    ("cool_greys", "Cool greys"),
    ("earth_tones", "Earth tones"),
    ("black_and_white", "Black and white"),
    ("pastels", "Pastels"),
)
SKY_STYLES = (
    ("golden_hour", "Golden hour"),
    ("blue_hour", "Blue hour"),
    ("pink_sunset", "Pink sunset"),
    ("deep_twilight", "Deep twilight"),
)
EXTERIOR_TYPES = (("TERRACE", "Terrace"), ("POOL", "Pool"), ("PETANQUE", "Pétanque court"))
SCENES = (("indoor", "Indoor"), ("outdoor", "Outdoor"))
SCALES = (("2", "2× (double width and height)"), ("4", "4× (four times)"))


ROOM = Option("room_type", "Room type", OptionKind.CHOICE, "living_room", ROOM_TYPES)
STYLE = Option("style", "Style", OptionKind.CHOICE, "modern", STYLES)

SERVICES: dict[str, Service] = {
    service.key: service
    for service in (
        Service(
            "virtual_staging",
            "Virtual staging",
            "Furnish an empty room in the style of your choice.",
            credits=4,
            providers=("aihomedesign",),
            # One proposal per order: what AI HomeDesign delivers (v1 takes no count).
            # Another proposal is a variation, a separate order charged as such.
            options=(ROOM, STYLE),
            variations=True,
            disclosure="Virtually staged",
            label_by_default=True,
            source_type="compositeWithTrainedAlgorithmicMedia",
            caption="{style} {room_type}",
        ),
        Service(
            "interior_design",
            "Interior design",
            "Restyle a furnished room: new furniture, materials and colours.",
            credits=4,
            providers=("aihomedesign",),
            options=(
                ROOM,
                STYLE,
                Option("colour", "Colour scheme", OptionKind.CHOICE, "any", COLOURS),
            ),
            variations=True,
            disclosure="Virtually redesigned",
            label_by_default=True,
            source_type="compositeWithTrainedAlgorithmicMedia",
            caption="{style} {room_type}",
        ),
        Service(
            "image_enhancement",
            "Image enhancement",
            "Balanced exposure and colour, crisper detail and livelier contrast.",
            credits=1,
            providers=("local", "aihomedesign"),
            options=(
                Option("scene", "Scene", OptionKind.CHOICE, "indoor", SCENES),
                Option("white_balance", "Correct white balance", OptionKind.BOOL, True),
                Option("local_contrast", "Bring out detail in shadows", OptionKind.BOOL, True),
                Option("sharpen", "Sharpen", OptionKind.BOOL, True),
                Option(
                    "strength",
                    "Strength",
                    OptionKind.INT,
                    60,
                    min_value=0,
                    max_value=100,
                    help_text="How strong the corrections are, in %: 60 suits most photos.",
                ),
            ),
            at_least_one=("white_balance", "local_contrast", "sharpen"),
            variations=True,
        ),
        Service(
            "day_to_dusk",
            "Day to dusk",
            "Turn a daytime exterior into an evening shot: dusk sky, warm light.",
            credits=2,
            providers=("local", "aihomedesign"),
            options=(
                Option("sky_style", "Sky", OptionKind.CHOICE, "golden_hour", SKY_STYLES),
                Option("remove_shadows", "Soften harsh shadows", OptionKind.BOOL, True),
            ),
            variations=True,
            disclosure="Digitally altered",
            source_type="compositeWithTrainedAlgorithmicMedia",
            local_source_type="compositeSynthetic",
            caption="{sky_style}",
        ),
        Service(
            "item_removal",
            "Item removal (automatic)",
            "Empty a room: all furniture and clutter removed automatically.",
            credits=3,
            providers=("aihomedesign", "iacrea"),
            variations=True,
            disclosure="Items digitally removed",
            label_by_default=True,
            source_type="compositeWithTrainedAlgorithmicMedia",
        ),
        Service(
            "item_removal_mask",
            "Item removal (painted)",
            "Remove exactly what you paint over: a chair, a bin, a car, a sign.",
            credits=2,
            providers=("local", "object_remover", "aihomedesign"),
            mask=MaskUse.REQUIRED,
            mask_hint="Paint over everything that should disappear, with a little margin.",
            max_mask_share=0.5,
            variations=True,
            disclosure="Items digitally removed",
            label_by_default=True,
            source_type="compositeWithTrainedAlgorithmicMedia",
            local_source_type="compositeCapture",
        ),
        Service(
            "declutter",
            "Decluttering",
            "Tidy a room: remove small objects and clutter, keep the furniture.",
            credits=2,
            providers=("iacrea", "local"),
            mask=MaskUse.OPTIONAL,
            mask_hint="Optional: paint the clutter to remove; without a mask it is found "
            "automatically (needs a remote provider).",
            options=(Option("auto", "Find clutter automatically", OptionKind.BOOL, True),),
            mask_excludes="auto",
            max_mask_share=0.5,
            variations=True,
            disclosure="Digitally decluttered",
            label_by_default=True,
            source_type="compositeWithTrainedAlgorithmicMedia",
            local_source_type="compositeCapture",
        ),
        Service(
            "exterior_creation",
            "Exterior creation",
            "Create a terrace, a pool or a pétanque court in the area you paint.",
            credits=4,
            providers=("iacrea",),
            mask=MaskUse.REQUIRED,
            mask_hint="Paint the area where the terrace, pool or court should be.",
            options=(
                Option("exterior_type", "Create", OptionKind.CHOICE, "TERRACE", EXTERIOR_TYPES),
            ),
            variations=True,
            disclosure="Digitally altered",
            label_by_default=True,
            source_type="compositeWithTrainedAlgorithmicMedia",
            caption="{exterior_type}",
        ),
        Service(
            "background_removal",
            "Background removal",
            "Cut out the main subject on a transparent background (PNG).",
            credits=1,
            providers=("local", "adcreative"),
        ),
        Service(
            "upscale",
            "Upscale",
            "A larger, sharper version for print and large screens.",
            credits=1,
            providers=("local",),
            options=(Option("scale", "Scale", OptionKind.CHOICE, "2", SCALES),),
            caption="{scale}",
        ),
    )
}

SERVICE_CHOICES = [(service.key, service.label) for service in SERVICES.values()]


def get_service(key: str) -> Service:
    return SERVICES[key]


def clean_options(service: Service, options: dict) -> dict:
    """Options checked against the catalogue: unknown names dropped, each value of its kind
    and among its choices. Raises ValueError naming the first bad option."""
    cleaned = {}
    for option in service.options:
        value = options.get(option.name, option.default)
        if option.kind == OptionKind.CHOICE:
            value = str(value)
            if value not in dict(option.choices):
                raise ValueError(f"{option.label}: {value!r} is not one of the choices")
        elif option.kind == OptionKind.BOOL:
            if not isinstance(value, bool):
                raise ValueError(f"{option.label}: expected true or false")
        else:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{option.label}: expected a whole number")
            low, high = option.min_value or 0, option.max_value or value
            if not low <= value <= high:
                raise ValueError(
                    f"{option.label}: must be between {option.min_value} and {option.max_value}"
                )
        cleaned[option.name] = value
    if service.at_least_one and not any(cleaned[name] for name in service.at_least_one):
        labels = ", ".join(
            o.label.lower() for o in service.options if o.name in service.at_least_one
        )
        raise ValueError(f"Choose at least one of: {labels}.")
    return cleaned


@dataclass(frozen=True)
class OptionSummary:
    label: str
    value: str


def describe_options(service: Service, options: dict) -> list[OptionSummary]:
    """Human-readable option values, for the order page and the admin."""
    summary = []
    for option in service.options:
        value = options.get(option.name, option.default)
        if option.kind == OptionKind.CHOICE:
            shown = dict(option.choices).get(str(value), str(value))
        elif option.kind == OptionKind.BOOL:
            shown = "Yes" if value else "No"
        else:
            shown = str(value)
        summary.append(OptionSummary(option.label, shown))
    return summary


def result_caption(service: Service, options: dict) -> str:
    """What a result is, for people: "Virtually staged · Scandinavian living room"; a
    service without a caption of its own adds its choices ("Image enhancement · Indoor")."""
    head = service.disclosure or service.label
    values = {
        option.name: (option.kind, summary.value.split(" (")[0])
        for option, summary in zip(service.options, describe_options(service, options), strict=True)
    }
    if service.caption:
        detail = service.caption.format(**{name: value for name, (_, value) in values.items()})
        detail = detail.lower()
        detail = detail[:1].upper() + detail[1:]
    else:
        detail = " · ".join(v for kind, v in values.values() if kind == OptionKind.CHOICE)
    return f"{head} · {detail}" if detail else head


def source_type_uri(term: str) -> str:
    return f"http://cv.iptc.org/newscodes/digitalsourcetype/{term}"
