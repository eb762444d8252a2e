from collections.abc import Sequence
from typing import Any

from django import forms

from homedesign.projects.models import Photo, Project

from .catalog import MaskUse, OptionKind, Service
from .models import ListingZip


def order_form_class(service: Service) -> type[forms.Form]:
    """A form with one field per catalogue option, plus the mask when the service takes one."""
    fields: dict[str, forms.Field] = {}
    for option in service.options:
        if option.kind == OptionKind.CHOICE:
            fields[option.name] = forms.ChoiceField(
                label=option.label, choices=option.choices, initial=option.default,
                help_text=option.help_text,
            )  # fmt: skip
        elif option.kind == OptionKind.BOOL:
            fields[option.name] = forms.BooleanField(
                label=option.label, required=False, initial=option.default,
                help_text=option.help_text,
            )  # fmt: skip
        else:
            fields[option.name] = forms.IntegerField(
                label=option.label, min_value=option.min_value, max_value=option.max_value,
                initial=option.default, help_text=option.help_text,
            )  # fmt: skip
    if service.mask != MaskUse.NONE:
        # The editor stores the painted mask first and sends its id; a mask file made
        # elsewhere (same convention) can be uploaded instead.
        fields["mask_id"] = forms.UUIDField(required=False, widget=forms.HiddenInput)
        fields["mask"] = forms.FileField(
            label="Or upload a mask file",
            required=False,
            help_text="A PNG of the photo's size: #7878CD where to edit, clear elsewhere.",
            widget=forms.ClearableFileInput(attrs={"accept": "image/png"}),
        )
    attributes: dict[str, object] = {**fields, "mask_required": service.mask == MaskUse.REQUIRED}
    return type(f"{service.key.title().replace('_', '')}OrderForm", (OrderForm,), attributes)


class OrderForm(forms.Form):
    mask_required = False

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.mask_required and not data.get("mask_id") and not data.get("mask"):
            raise forms.ValidationError("Paint the area to change first.")
        return data


def options_from(form: forms.Form, service: Service) -> dict:
    return {name: form.cleaned_data[name] for name in service.option_names}


def batch_form_class(service: Service, photos: Sequence[Photo]) -> type[forms.Form]:
    """The service's options once for the whole batch, which photos it is for, and, for
    services with a room type, each photo's room (the listing's style fills them in)."""
    form_class = order_form_class(service)
    fields: dict[str, forms.Field] = {
        name: field
        for name, field in form_class.base_fields.items()
        if name not in ("mask", "mask_id") and not (name == "room_type" and photos)
    }
    fields["photos"] = forms.MultipleChoiceField(
        label="Photos",
        choices=[(str(photo.pk), photo.original_name) for photo in photos],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one photo."},
    )
    room = next((o for o in service.options if o.name == "room_type"), None)
    if room is not None:
        for photo in photos:
            fields[f"room_{photo.pk}"] = forms.ChoiceField(
                label=f"Room in {photo.original_name}", choices=room.choices, initial=room.default
            )
    return type(f"{form_class.__name__}Batch", (forms.Form,), fields)


class LabelForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ("label_mode", "label_corner")


class ListingZipForm(forms.Form):
    size = forms.ChoiceField(label="Size", choices=ListingZip.SIZES, initial="mls")
    include_originals = forms.BooleanField(
        label="Each original photo beside its edit",
        required=False,
        help_text="Named so they pair: 02-living-room.jpg, 02-living-room-virtually-staged.jpg.",
    )
