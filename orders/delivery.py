"""Results as a listing receives them: the sizes portals take, the metadata that says how
each was made, the disclosure label, and the whole listing in one ZIP.

Everything here runs in the worker: request handlers only look up what it made.
"""

import io
import logging
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import IO
from xml.sax.saxutils import escape, quoteattr

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from homedesign.projects.images import load_upright
from homedesign.projects.models import Photo, Project

from .catalog import source_type_uri
from .models import ListingZip, Order, OrderResult, Rendition, ShareLink, photo_stem
from .providers import REGISTRY

logger = logging.getLogger(__name__)

Kind = Rendition.Kind
XMP_KEY = "XML:com.adobe.xmp"  # the PNG iTXt keyword XMP readers look for


def result_kinds(result: OrderResult) -> list[str]:
    """The sizes a result is delivered in: a transparent cut-out also as JPEG on white."""
    kinds = [Kind.FULL, Kind.MLS, Kind.WEB]
    if result.is_transparent:
        kinds.insert(1, Kind.FULL_WHITE)
    return [str(kind) for kind in kinds]


def label_corner(result: OrderResult, project: Project, *, mode: str = "") -> str:
    """Where the listing wants this result's disclosure label, or "" for none; `mode`, a
    share link's own choice, overrides the listing's on/off (never its corner)."""
    info = result.order.service_info
    mode = mode or project.label_mode
    if not info.disclosure or mode == Project.LabelMode.OFF:
        return ""
    if mode == Project.LabelMode.RECOMMENDED and not info.label_by_default:
        return ""
    return project.label_corner


def label_corners(result: OrderResult, project: Project) -> set[str]:
    """Every label the result is delivered with: the listing's, and those its live share
    links choose for themselves."""
    modes = ShareLink.objects.live().of_project(project).exclude(label_mode="")
    chosen = {"", *modes.values_list("label_mode", flat=True)}
    return {label_corner(result, project, mode=mode) for mode in chosen}


def rendition_for(
    result: OrderResult, kind: str, project: Project, *, mode: str = ""
) -> Rendition | None:
    """The delivered file of this kind as the listing (or a share link's `mode`) now wants
    it, if the worker made it."""
    corner = label_corner(result, project, mode=mode)
    return result.renditions.filter(kind=kind, label=corner).first()


# --- Metadata ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Provenance:
    title: str
    description: str
    source_type: str  # an IPTC digital source type term; "" to claim none
    service: str
    provider: str
    created: datetime


def result_provenance(result: OrderResult) -> Provenance:
    order = result.order
    info = order.service_info
    provider = REGISTRY.get(order.provider)
    provider_label = provider.label if provider else order.provider or "unknown"
    # The local engine's classical algorithms copy or synthesise pixels without a trained
    # model; remote providers (and any model the operator installs) are trained models.
    term = info.local_source_type if order.provider == "local" else info.source_type
    made = timezone.localtime(order.finished_at or result.created_at)
    # The caption starts with the disclosure ("Virtually staged · …") or, for a service
    # without one, with the service's name: either is said once.
    caption = result.caption
    how = "Made" if caption.startswith(info.label) else info.label
    return Provenance(
        title=caption,
        description=f"{caption}. {how} by {provider_label} with homedesign, {made:%Y-%m-%d}; "
        "not the unaltered photo.",
        source_type=term,
        service=info.label,
        provider=provider_label,
        created=made,
    )


def photo_provenance(photo: Photo) -> Provenance:
    return Provenance(
        title=photo.original_name,
        description="The photo as the agent uploaded it, not altered by homedesign "
        "(its camera metadata removed).",
        source_type="",
        service="",
        provider="",
        created=timezone.localtime(photo.uploaded_at),
    )


def xmp_packet(provenance: Provenance) -> bytes:
    """XMP readable by exiftool, Pillow and photo libraries: the IPTC digital source type,
    a description, the service, the provider and the date."""
    source = (
        f"\n    Iptc4xmpExt:DigitalSourceType={quoteattr(source_type_uri(provenance.source_type))}"
        if provenance.source_type
        else ""
    )
    extra = (
        f"\n    homedesign:Service={quoteattr(provenance.service)}"
        f"\n    homedesign:Provider={quoteattr(provenance.provider)}"
        if provenance.service
        else ""
    )
    date = provenance.created.isoformat(timespec="seconds")
    title, description = escape(provenance.title), escape(provenance.description)
    alt = '<rdf:Alt><rdf:li xml:lang="x-default">{}</rdf:li></rdf:Alt>'
    text = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
    xmlns:homedesign="https://github.com/homedesign/ns/1.0/"{source}{extra}
    xmp:CreatorTool="homedesign"
    xmp:CreateDate="{date}"
    photoshop:DateCreated="{date}">
   <dc:title>{alt.format(title)}</dc:title>
   <dc:description>{alt.format(description)}</dc:description>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    return text.encode()


# --- Pixels -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Encoded:
    data: bytes
    extension: str
    width: int
    height: int


def encode(image: Image.Image, kind: str, *, xmp: bytes, label: str, corner: str) -> Encoded:
    """One delivered file from the result's pixels (no metadata but ours): sized, on white
    where it must be a JPEG, labelled, encoded under the kind's byte limit."""
    long_edge, max_bytes = _limits(kind)
    if long_edge and max(image.size) > long_edge:
        scale = long_edge / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if image.mode == "RGBA" and kind != Kind.FULL:
        white = Image.new("RGB", image.size, "white")
        white.paste(image, mask=image.getchannel("A"))
        image = white
    if label and corner:
        image = draw_label(image, label, corner)
    buffer = io.BytesIO()
    if image.mode == "RGBA":
        info = PngInfo()
        info.add_itxt(XMP_KEY, xmp.decode())
        image.save(buffer, "PNG", pnginfo=info, compress_level=6)
        return Encoded(buffer.getvalue(), "png", image.width, image.height)
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    # Progressive and optimised JPEGs make libjpeg hold every coefficient of the picture
    # (about 300 MB at 50 MP): only the resized kinds get them.
    compact = max_bytes is not None
    for quality in (92, 88, 84, 80, 75, 70, 60, 50):
        buffer = io.BytesIO()
        rgb.save(buffer, "JPEG", quality=quality, progressive=compact, optimize=compact, xmp=xmp)
        if max_bytes is None or buffer.tell() <= max_bytes:
            break
    else:
        # Past the lowest quality worth delivering: smaller instead, until it fits.
        while max_bytes is not None and buffer.tell() > max_bytes and min(rgb.size) > 64:
            rgb = rgb.resize((rgb.width * 9 // 10, rgb.height * 9 // 10), Image.Resampling.LANCZOS)
            buffer = io.BytesIO()
            rgb.save(buffer, "JPEG", quality=70, progressive=True, optimize=True, xmp=xmp)
    return Encoded(buffer.getvalue(), "jpg", rgb.width, rgb.height)


def _limits(kind: str) -> tuple[int | None, int | None]:
    if kind == Kind.MLS:
        return settings.DELIVERY_MLS_LONG_EDGE, settings.DELIVERY_MLS_MAX_BYTES
    if kind == Kind.WEB:
        return settings.DELIVERY_WEB_LONG_EDGE, settings.DELIVERY_WEB_MAX_BYTES
    return None, None


def draw_label(image: Image.Image, text: str, corner: str) -> Image.Image:
    """The disclosure burned into a corner: white on a dark translucent plate, its height
    about 3 % of the picture's short side (readable on a phone, small on a screen). Only
    the plate's box is blended, so a 50 MP picture costs one copy, not four."""
    short = min(image.size)
    size = max(12, round(short * 0.028))
    font = ImageFont.load_default(size=size)
    pad, margin = round(size * 0.45), round(short * 0.025)
    left, top, right, bottom = (round(edge) for edge in font.getbbox(text))
    width, height = right - left + 2 * pad, bottom - top + 2 * pad
    x = margin if corner.endswith("left") else image.width - margin - width
    y = margin if corner.startswith("top") else image.height - margin - height
    box = (x, y, x + width, y + height)
    plate = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(plate)
    draw.rounded_rectangle(
        (0, 0, width - 1, height - 1), radius=round(size * 0.3), fill=(20, 24, 40, 190)
    )
    draw.text((pad - left, pad - top), text, font=font, fill=(255, 255, 255, 255))
    region = Image.alpha_composite(image.crop(box).convert("RGBA"), plate)
    labelled = image.copy()
    labelled.paste(region if image.mode == "RGBA" else region.convert(image.mode), box)
    return labelled


# --- Renditions -------------------------------------------------------------------------------


def renditions_make(result: OrderResult, *, corner: str) -> list[Rendition]:
    """Every delivered kind of the result with this label corner ("" unlabelled), made once:
    kinds already made are kept; the full file is decoded once for the rest."""
    made = {r.kind: r for r in result.renditions.filter(label=corner)}
    missing = [kind for kind in result_kinds(result) if kind not in made]
    if not missing:
        return list(made.values())
    with result.full.open("rb") as file, Image.open(file) as source:
        source.load()
        # No second copy of a 50 MP picture when it is already in the mode we need.
        mode = "RGBA" if source.mode in ("RGBA", "LA", "PA") else "RGB"
        image = source if source.mode == mode else source.convert(mode)
    xmp = xmp_packet(result_provenance(result))
    disclosure = result.order.service_info.disclosure
    for kind in missing:
        encoded = encode(image, kind, xmp=xmp, label=disclosure, corner=corner)
        rendition = Rendition(
            result=result, kind=kind, label=corner, width=encoded.width,
            height=encoded.height, byte_size=len(encoded.data),
        )  # fmt: skip
        name = f"{result.order_id}/{result.pk}-{kind}{'-' + corner if corner else ''}"
        rendition.file.save(f"{name}.{encoded.extension}", ContentFile(encoded.data), save=False)
        try:
            with transaction.atomic():
                rendition.save()
        except IntegrityError:  # another worker made it meanwhile; theirs stands
            rendition.file.storage.delete(str(rendition.file.name))
            continue
        made[kind] = rendition
    return list(made.values())


def rendition_ensure(result: OrderResult, kind: str, project: Project) -> Rendition:
    corner = label_corner(result, project)
    found = result.renditions.filter(kind=kind, label=corner).first()
    if found:
        return found
    return next(r for r in renditions_make(result, corner=corner) if r.kind == kind)


def results_deliver(results: list[OrderResult]) -> None:
    """Make what each result's listing and share links deliver now (run when an order
    finishes, a share link is made, or the listing's label changes). One result failing
    spoils no other."""
    for result in results:
        try:
            for corner in sorted(label_corners(result, result.order.photo.project)):
                renditions_make(result, corner=corner)
        except Exception:
            logger.exception("Could not make the delivered files of result %s", result.pk)


def project_results(project: Project) -> list[OrderResult]:
    return list(
        OrderResult.objects.filter(
            order__photo__project=project, order__status=Order.Status.SUCCEEDED
        ).select_related("order__photo__project")
    )


# --- The listing ZIP --------------------------------------------------------------------------


class BuildSuperseded(Exception):
    """The reaper counted this build as lost and queued or failed the ZIP meanwhile."""


def listing_zip_build(archive: ListingZip) -> None:
    """Write the ZIP to a temporary file one entry at a time (memory: one image), then
    store it. Entries pair by name: 02-living-room.jpg, 02-living-room-virtually-staged.jpg."""
    claimed = ListingZip.objects.filter(pk=archive.pk, status=ListingZip.Status.QUEUED).update(
        status=ListingZip.Status.BUILDING, builds=F("builds") + 1, heartbeat_at=timezone.now()
    )
    if not claimed:
        return
    # This build's own row: a build the reaper gave up on (its worker only slow) then
    # writes nothing over the one that replaced it.
    mine = ListingZip.objects.filter(
        pk=archive.pk,
        status=ListingZip.Status.BUILDING,
        builds=ListingZip.objects.values_list("builds", flat=True).get(pk=archive.pk),
    )
    results = list(
        archive.results.filter(order__status=Order.Status.SUCCEEDED)
        .select_related("order__photo__project")
        .order_by("order__photo__uploaded_at", "order__created_at", "index")
    )
    try:
        with tempfile.TemporaryFile() as spool:
            with zipfile.ZipFile(spool, "w", zipfile.ZIP_STORED, allowZip64=True) as zipped:
                _zip_entries(archive, mine, results, zipped)
            size = spool.tell()
            spool.seek(0)
            archive.file.save(archive.download_name, File(spool), save=False)
    except BuildSuperseded:
        logger.warning("Listing ZIP %s: this build was given up as lost; stopped", archive.pk)
        return
    except Exception as error:
        logger.exception("Listing ZIP %s failed", archive.pk)
        mine.update(
            status=ListingZip.Status.FAILED,
            message=f"The ZIP could not be made ({type(error).__name__}); please try again.",
            finished_at=timezone.now(),
        )
        return
    finished = mine.update(
        status=ListingZip.Status.READY, progress=100, file=archive.file.name,
        byte_size=size, finished_at=timezone.now(),
    )  # fmt: skip
    if not finished:  # reaped meanwhile: another build, or the agent's next ZIP, stands
        archive.file.storage.delete(str(archive.file.name))
        return
    _drop_older_zips(archive)


def _zip_entries(
    archive: ListingZip,
    mine: QuerySet[ListingZip],
    results: list[OrderResult],
    zipped: zipfile.ZipFile,
) -> None:
    project = archive.project
    kind = {"full": Kind.FULL, "web": Kind.WEB}.get(archive.size, Kind.MLS)
    names: set[str] = set()
    originals: set[object] = set()
    steps = max(1, len(results))
    for done, result in enumerate(results):
        photo = result.order.photo
        stem = photo_stem(photo)
        if archive.include_originals and photo.pk not in originals:
            originals.add(photo.pk)
            original = _original_encoded(photo, kind)
            name = _unique(f"{stem}.{original.extension}", names)
            _write(zipped, name, io.BytesIO(original.data))
        rendition = rendition_ensure(result, kind, project)
        name = _unique(f"{result.download_stem}.{rendition.extension}", names)
        with rendition.file.open("rb") as file:
            _write(zipped, name, file)
        if not mine.update(progress=round(99 * (done + 1) / steps), heartbeat_at=timezone.now()):
            raise BuildSuperseded


def _original_encoded(photo: Photo, kind: str) -> Encoded:
    """The original beside its edit, at the same size: pixels only, upright, no camera
    metadata (nor the GPS of the home), with XMP saying it is the unaltered photo."""
    long_edge, _ = _limits(kind)
    with photo.original.open("rb") as file:
        image = load_upright(file, draft_box=long_edge)
    return encode(image, kind, xmp=xmp_packet(photo_provenance(photo)), label="", corner="")


def _write(zipped: zipfile.ZipFile, name: str, source: IO[bytes] | File) -> None:
    with zipped.open(name, "w", force_zip64=True) as entry:
        shutil.copyfileobj(source, entry, 1024 * 1024)


def _unique(name: str, taken: set[str]) -> str:
    stem, dot, extension = name.rpartition(".")
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{stem}-{number}{dot}{extension}", number + 1
    taken.add(candidate)
    return candidate


def _drop_older_zips(archive: ListingZip) -> None:
    """One ZIP per listing is kept: a newer one replaces the files of the older."""
    older = ListingZip.objects.filter(
        project=archive.project_id,
        created_at__lt=archive.created_at,
        status__in=(ListingZip.Status.READY, ListingZip.Status.FAILED),
    )  # one still being built is left to finish
    for old in older:
        if old.file.name:
            old.file.storage.delete(str(old.file.name))
    older.delete()
