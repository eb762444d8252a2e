from django import forms

from .models import Project


class ProjectForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ("name", "address", "notes")
        labels = {"name": "Project name"}
        help_texts = {
            "name": "Usually the listing's title or reference, e.g. “12 Rue des Lilas – T3”.",
            "address": "The property's address. Only you can see it; it is never shared.",
        }
        widgets = {
            "name": forms.TextInput(attrs={"autofocus": True}),
            "notes": forms.Textarea(attrs={"rows": 4}),
        }
