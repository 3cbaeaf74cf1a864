"""Four eyes: staff management and deciding as the second person are separated.

An account that manages staff and approves could create itself a second pair of
eyes (issue 22). The shipped roles no longer combine them (``roles.json``: the
city commander and the district officer keep approving and lose ``staff.manage``;
staff accounts are created by the system administrator). Here every existing role
that still combines ``staff.manage`` with a deciding capability loses
``staff.manage``: what a role decides stays, as the authority set it. The admin
refuses the combination from now on (``Role.clean``).
"""

from django.db import migrations

# As in ``core.permissions`` when this migration was written.
STAFF_MANAGE = "staff.manage"
SECOND_PERSON = {"status.approve", "status.approve_bulk", "zone.approve", "portal.review", "quarantine.approve"}


def separate(apps, schema_editor):
    Role = apps.get_model("core", "Role")
    for role in Role.objects.all():
        caps = list(role.capabilities or [])
        if STAFF_MANAGE in caps and SECOND_PERSON & set(caps):
            role.capabilities = [c for c in caps if c != STAFF_MANAGE]
            role.save(update_fields=["capabilities"])


class Migration(migrations.Migration):
    dependencies = [("core", "0008_person_scope_count_index")]

    # Going back does not give the combination back: it was the defect.
    operations = [migrations.RunPython(separate, migrations.RunPython.noop)]
