from django import forms

from .catalog import Mask, Service


def order_form_class(service: Service) -> type[forms.Form]:
    """A form with one field per catalogue option, plus the mask when the service takes one."""
    fields: dict[str, forms.Field] = {}
    for option in service.options:
        if option.kind == "choice":
            fields[option.name] = forms.ChoiceField(
                label=option.label, choices=option.choices, initial=option.default,
                help_text=option.help_text,
            )  # fmt: skip
        elif option.kind == "bool":
            fields[option.name] = forms.BooleanField(
                label=option.label, required=False, initial=option.default,
                help_text=option.help_text,
            )  # fmt: skip
        else:
            fields[option.name] = forms.IntegerField(
                label=option.label, min_value=option.min_value, max_value=option.max_value,
                initial=option.default, help_text=option.help_text,
            )  # fmt: skip
    if service.mask != Mask.NONE:
        fields["mask"] = forms.FileField(
            label="Mask",
            required=service.mask == Mask.REQUIRED,
            help_text=(
                f"{service.mask_hint} A PNG exactly the photo's size: painted pixels opaque "
                "on transparency, or white on black."
            ),
            widget=forms.ClearableFileInput(attrs={"accept": "image/png"}),
        )
    return type(f"{service.key.title().replace('_', '')}OrderForm", (forms.Form,), fields)


def options_from(form: forms.Form, service: Service) -> dict:
    return {name: form.cleaned_data[name] for name in service.option_names}
