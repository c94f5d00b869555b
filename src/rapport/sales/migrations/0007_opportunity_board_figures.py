"""The board's column figures from one index (number 0007: 0006 belongs to another branch)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sales', '0006_metrics_indexes'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='opportunity',
            index=models.Index(fields=['pipeline', 'stage', 'owner', 'team', 'amount', 'probability'], name='opportunity_board_figures'),
        ),
    ]
