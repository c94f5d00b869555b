# The quote list reads newest first a page at a time; without this index PostgreSQL sorts every
# quote the user may see for each page.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("sales", "0007_opportunity_board_figures"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="quote",
            index=models.Index(fields=["-created_at", "-id"], name="quote_created"),
        ),
    ]
