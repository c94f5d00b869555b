"""The board figures' index in grouping order: pipeline, stage, probability (number 0010: 0009
may belong to another branch)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sales', '0008_quote_list_index'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='opportunity',
            name='opportunity_board_figures',
        ),
        migrations.AddIndex(
            model_name='opportunity',
            index=models.Index(fields=['pipeline', 'stage', 'probability', 'owner', 'team', 'amount'],
                               name='opportunity_board_figures'),
        ),
    ]
