from django.db import migrations


def backfill(apps, schema_editor):
    """Clients enrolled before Client.broker existed get their active enrolment's broker."""
    Enrolment = apps.get_model("premium", "Enrolment")
    Client = apps.get_model("clients", "Client")
    for client_id, broker_id in Enrolment.objects.filter(state="active").values_list("client_id", "broker_id"):
        Client.objects.filter(pk=client_id, broker__isnull=True).update(broker_id=broker_id)


class Migration(migrations.Migration):
    dependencies = [("premium", "0001_initial"), ("clients", "0005_client_broker")]
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
