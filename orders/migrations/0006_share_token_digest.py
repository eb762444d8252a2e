import base64
import hashlib

from django.db import migrations, models
from django.utils.crypto import salted_hmac


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def digests_from_tokens(apps, schema_editor):
    """Tokens are now derived from the link's id and only their digest is kept. Links
    already sent keep working through the digest of their old random token."""
    ShareLink = apps.get_model("orders", "ShareLink")
    for link in ShareLink.objects.all():
        mac = salted_hmac("orders.share", str(link.pk), algorithm="sha256").digest()
        link.token_digest = _digest(base64.urlsafe_b64encode(mac).rstrip(b"=").decode())
        link.former_digest = _digest(link.token)
        link.picks_only = link.results.exists()
        link.save(update_fields=["token_digest", "former_digest", "picks_only"])


class Migration(migrations.Migration):
    dependencies = [("orders", "0005_order_poll_token")]

    operations = [
        migrations.AddField(
            model_name="sharelink",
            name="token_digest",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name="sharelink",
            name="former_digest",
            field=models.CharField(editable=False, max_length=64, null=True, unique=True),
        ),
        migrations.AddField(
            model_name="sharelink",
            name="picks_only",
            field=models.BooleanField(
                default=False,
                help_text="Show only the picked results (fewer once some are deleted); "
                "otherwise every result of the subject.",
            ),
        ),
        migrations.RunPython(digests_from_tokens, migrations.RunPython.noop),
        migrations.RemoveField(model_name="sharelink", name="token"),
        migrations.AlterField(
            model_name="sharelink",
            name="token_digest",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
        migrations.AlterField(
            model_name="sharelink",
            name="results",
            field=models.ManyToManyField(
                blank=True,
                help_text="The results the owner picked, when the link shows picks only.",
                related_name="share_links",
                to="orders.orderresult",
            ),
        ),
    ]
