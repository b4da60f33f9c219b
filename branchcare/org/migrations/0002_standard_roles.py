from django.db import migrations


def create_roles(apps, schema_editor):
    from branchcare.org.capabilities import STANDARD_ROLES

    Role = apps.get_model("org", "Role")
    for code, (name, scope, caps) in STANDARD_ROLES.items():
        Role.objects.get_or_create(code=code, defaults={"name": name, "scope": str(scope), "capabilities": list(caps)})


class Migration(migrations.Migration):
    dependencies = [("org", "0001_initial")]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
