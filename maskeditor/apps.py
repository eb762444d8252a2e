from django.apps import AppConfig


class MaskEditorConfig(AppConfig):
    name = "maskeditor"
    verbose_name = "Mask editor"
