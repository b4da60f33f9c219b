"""Make sure the benchmark index 沪深300 (000300.SH) exists in the security master. Idempotent: an
existing row (the bundled security list has it) is left as it is."""

from django.db import migrations


def ensure_benchmark(apps, schema_editor):
    Security = apps.get_model("clients", "Security")
    Security.objects.get_or_create(
        code="000300",
        exchange="SH",
        defaults={"name": "沪深300", "kind": "index", "risk_rating": "R3", "industry": "指数"},
    )


class Migration(migrations.Migration):
    dependencies = [
        ("research_performance", "0001_initial"),
        ("clients", "0004_client_last_contact_at_and_more"),
    ]

    operations = [migrations.RunPython(ensure_benchmark, migrations.RunPython.noop)]
