from django.db import migrations


def create_roles(apps, schema_editor):
    """Add standard roles introduced after 0002 (the company-wide 总部督导) without touching edited ones."""
    from branchcare.org.capabilities import STANDARD_ROLES

    Role = apps.get_model("org", "Role")
    for code, (name, scope, caps) in STANDARD_ROLES.items():
        Role.objects.get_or_create(code=code, defaults={"name": name, "scope": str(scope), "capabilities": list(caps)})


class Migration(migrations.Migration):
    dependencies = [("org", "0004_service_standards")]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
