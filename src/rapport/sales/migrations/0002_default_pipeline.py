"""The default pipeline: the sales process the issue names, each stage with a win probability.

Opportunity generated → lead sent to a salesperson → contacted → meeting → problems and solutions
identified → quote generated → sales order placed → order fulfilled → customer billed. The last
three are "won" stages (the deal is won when the order is placed; fulfilment and billing are
tracked on the same board). "Lost" is the one lost stage. Admins may rename, reorder or add.
"""

from django.db import migrations

STAGES = (
    # name, probability %, kind, forecast category
    ("Opportunity generated", 5, "open", "pipeline"),
    ("Lead sent to salesperson", 10, "open", "pipeline"),
    ("Customer contacted", 20, "open", "pipeline"),
    ("Meeting", 30, "open", "pipeline"),
    ("Problems and solutions identified", 50, "open", "best_case"),
    ("Quote generated", 70, "open", "commit"),
    ("Sales order placed", 100, "won", "closed"),
    ("Order fulfilled", 100, "won", "closed"),
    ("Customer billed", 100, "won", "closed"),
    ("Lost", 0, "lost", "omitted"),
)


def create(apps, schema_editor):
    Pipeline = apps.get_model("sales", "Pipeline")
    Stage = apps.get_model("sales", "Stage")
    if Pipeline.objects.exists():
        return
    pipeline = Pipeline.objects.create(name="Sales", is_default=True)
    Stage.objects.bulk_create(
        Stage(pipeline=pipeline, name=name, position=position, probability=probability, kind=kind,
              forecast_category=category)
        for position, (name, probability, kind, category) in enumerate(STAGES)
    )


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
