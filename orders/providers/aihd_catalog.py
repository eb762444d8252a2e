"""AI HomeDesign's catalogue: its spaces (room types) and widget items (style, colour, sky)
have opaque ids fetched from its catalog endpoints, stored in CatalogEntry, and mapped
onto our catalogue's choices by name."""

import re

import httpx
from django.db import transaction
from django.utils import timezone

from ..catalog import COLOURS, ROOM_TYPES, SCENES, SKY_STYLES, STYLES
from ..models import CatalogEntry
from .base import ProviderError
from .http import ApiClient

SERVICE_NAMES = {
    "virtual_staging": "service-ai-virtual-staging",
    "interior_design": "service-creative-designer",
    "image_enhancement": "service-image-enhancement",
    "day_to_dusk": "service-day-to-dusk",
    "item_removal": "service-item-removal",
    "item_removal_mask": "service-item-removal-mask",
}
WITH_SPACE = {
    "service-ai-virtual-staging",
    "service-creative-designer",
    "service-image-enhancement",
}
WITH_WIDGETS = WITH_SPACE | {"service-day-to-dusk"}
# Words in AI HomeDesign's item titles that stand for our choices, best first.
# A word must say our choice, not merely a neighbour of it ("twilight" fits both blue hour
# and deep twilight): an unmatched choice is refused, never swapped for another sky.
SKY_WORDS = {
    "golden_hour": ["golden"],
    "blue_hour": ["blue"],
    "pink_sunset": ["pink"],
    "deep_twilight": ["deep", "night", "dark", "without cloud"],
}
COLOUR_WORDS = {
    "warm_neutrals": ["warm", "neutral"],
    "cool_greys": ["cool", "grey", "gray"],
    "earth_tones": ["earth"],
    "black_and_white": ["monochrome", "black"],
    "pastels": ["pastel"],
}
Entry = CatalogEntry.Kind


def slug(text: str) -> str:
    """'space-kitchen--' → 'kitchen', 'space-kids-room-1' → 'kids-room', 'Living Room' →
    'living-room': the names AI HomeDesign uses, compared with ours."""
    text = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return re.sub(r"-\d+$", "", text.removeprefix("space-"))


def catalog_refresh(api: ApiClient, service_names: list[str] | None = None) -> int:
    """Fetch the spaces and widget items of each service again; returns the entries kept."""
    count = 0
    for service_name in service_names or sorted(WITH_WIDGETS):
        now, entries = timezone.now(), []
        spaces = [""]
        if service_name in WITH_SPACE:
            params = {"active": "true", "service_name": service_name}
            data = _data(_spaces(api, params))
            spaces = [space["name"] for space in data]
            entries += [
                CatalogEntry(
                    service_name=service_name,
                    kind=Entry.SPACE,
                    remote_id=space["id"],
                    name=space["name"],
                    title=space.get("title") or space["name"],
                    fetched_at=now,
                )
                for space in data
                if space.get("is_active", True)
            ]
        for space_name in spaces:
            params = {"service_name": service_name}
            if space_name:
                params["space_name"] = space_name
            for widget in _data(api.request("GET", "/catalog/items/filter", params=params)):
                entries += [
                    CatalogEntry(
                        service_name=service_name,
                        kind=Entry.ITEM,
                        space_name=space_name,
                        remote_id=item["id"],
                        title=item.get("title", ""),
                        widget_id=widget["id"],
                        widget_title=widget.get("title", ""),
                        widget_optional=bool(widget.get("is_optional", True)),
                        fetched_at=now,
                    )
                    for item in widget.get("items") or []
                ]
        with transaction.atomic():
            CatalogEntry.objects.filter(service_name=service_name).delete()
            CatalogEntry.objects.bulk_create(entries)
        count += len(entries)
    return count


def _spaces(api: ApiClient, params: dict) -> httpx.Response:
    try:
        return api.request("GET", "/catalog/spaces", params=params)
    except ProviderError as error:
        if error.status != 404:
            raise
        return api.request("GET", "/spaces", params=params)  # the path one client uses


def _data(response: httpx.Response) -> list[dict]:
    data = response.json().get("data")
    return [entry for entry in data or [] if isinstance(entry, dict) and entry.get("id")]


# --- From our choices to their ids -------------------------------------------------------


def space_for(service_name: str, choice: str) -> str | None:
    """The space name for one of our room types (or indoor/outdoor)."""
    wanted = slug(choice)
    spaces = CatalogEntry.objects.filter(service_name=service_name, kind=Entry.SPACE)
    for space in spaces:
        if wanted in (slug(space.name), slug(space.title)):
            return space.name
    return None


def pick_items(service_name: str, space_name: str, options: dict) -> list[dict] | str:
    """The selected_widgets for our options, or why they cannot be chosen."""
    items = list(
        CatalogEntry.objects.filter(
            service_name=service_name, kind=Entry.ITEM, space_name=space_name
        )
    )
    widgets: dict[str, list[CatalogEntry]] = {}
    for item in items:
        widgets.setdefault(item.widget_id, []).append(item)
    selected = []
    for entries in widgets.values():
        choice: CatalogEntry | None
        title = entries[0].widget_title.lower()
        if "sky" in title:
            sky = str(options.get("sky_style"))
            choice = _by_words(entries, SKY_WORDS.get(sky, []))
            if choice is None:
                return f"AI HomeDesign has no {dict(SKY_STYLES).get(sky, sky)} sky"
        elif "style" in title:
            style = dict(STYLES).get(str(options.get("style")), "")
            choice = next((e for e in entries if slug(e.title) == slug(style)), None)
            if choice is None:
                return f"AI HomeDesign has no {style} style"
        elif "colo" in title:
            colour = str(options.get("colour", "any"))
            choice = _by_words(entries, COLOUR_WORDS.get(colour, []))
            if choice is None and colour != "any":
                return f"AI HomeDesign has no {dict(COLOURS)[colour]} colour scheme"
        else:
            # e.g. enhancement toggles: ours are not theirs, and the form offers none of
            # theirs. One they require we cannot choose for the agent.
            choice = None
            if not entries[0].widget_optional:
                return f"AI HomeDesign asks for a {entries[0].widget_title} we do not offer"
        if choice is None and not entries[0].widget_optional:
            return f"AI HomeDesign needs a {entries[0].widget_title} we cannot choose"
        if choice is not None:
            selected.append({"id": choice.widget_id, "item_id": choice.remote_id})
    return selected


def _by_words(entries: list[CatalogEntry], words: list[str]) -> CatalogEntry | None:
    for word in words:
        for entry in entries:
            if word in entry.title.lower():
                return entry
    return None


def maps_to(entry: CatalogEntry) -> str:
    """Which of our choices an entry stands for, for the admin."""
    if entry.kind == Entry.SPACE:
        ours = dict(ROOM_TYPES) | dict(SCENES)
        return next((label for key, label in ours.items() if slug(key) == slug(entry.name)
                     or slug(key) == slug(entry.title)), "")  # fmt: skip
    title = entry.widget_title.lower()
    if "sky" in title:
        words, labels = SKY_WORDS, dict(SKY_STYLES)
    elif "colo" in title:
        words, labels = COLOUR_WORDS, dict(COLOURS)
    elif "style" in title:
        return next((label for _, label in STYLES if slug(label) == slug(entry.title)), "")
    else:
        return ""
    return ", ".join(labels[key] for key, found in words.items() if _by_words([entry], found))
