import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """An order now points at the mask version it used instead of keeping a copy. The old
    file column and the new key differ in type, so the column is replaced, not altered."""

    dependencies = [
        ("maskeditor", "0001_initial"),
        ("orders", "0002_share_link_results"),
    ]

    operations = [
        migrations.RemoveField(model_name="order", name="mask"),
        migrations.AddField(
            model_name="order",
            name="mask",
            field=models.ForeignKey(
                blank=True,
                help_text="The painted mask version this order used.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="orders",
                to="maskeditor.mask",
            ),
        ),
    ]
