"""Invoices carry their order's owner and team (filled here for the invoices issued so far), and
the team-first indexes of the sales metrics."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def copy_from_orders(apps, schema_editor):
    """One UPDATE: every invoice takes its order's owner and team."""
    invoice = apps.get_model("commerce", "Invoice")._meta.db_table
    order = apps.get_model("commerce", "Order")._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute(f'UPDATE "{invoice}" i SET owner_id = o.owner_id, team_id = o.team_id '
                           f'FROM "{order}" o WHERE o.id = i.order_id')
        else:
            cursor.execute(f'UPDATE "{invoice}" SET owner_id = (SELECT o.owner_id FROM "{order}" o WHERE o.id = '
                           f'"{invoice}".order_id), team_id = (SELECT o.team_id FROM "{order}" o WHERE o.id = '
                           f'"{invoice}".order_id)')


class Migration(migrations.Migration):

    dependencies = [
        ('commerce', '0004_account_purchase_stats'),
        ('core', '0003_user_calendar_key'),
        ('parties', '0011_account_scores'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='invoice',
            name='owner',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='invoice',
            name='team',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='core.team'),
        ),
        migrations.RunPython(copy_from_orders, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name='invoice',
            index=models.Index(fields=['issue_date'], include=('owner', 'team', 'currency', 'subtotal'), name='invoice_issued_figures'),
        ),
        migrations.AddIndex(
            model_name='invoice',
            index=models.Index(fields=['team', 'issue_date'], include=('owner', 'currency', 'subtotal'), name='invoice_team_issued'),
        ),
        migrations.AddIndex(
            model_name='invoice',
            index=models.Index(fields=['owner', 'issue_date'], include=('currency', 'subtotal'), name='invoice_owner_issued'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(condition=models.Q(('status', 'cancelled'), _negated=True), fields=['team', 'order_date'], include=('account', 'owner'), name='order_team_purchase'),
        ),
    ]
