from celery import shared_task

from rapport.insights.warehouse import warehouse_build


@shared_task(name="rapport.insights.tasks.warehouse_build_task")
def warehouse_build_task(incremental: bool = True) -> dict[str, int]:
    """Refresh the warehouse (incremental by default: the periodic job). Idempotent: a second run
    with nothing changed rewrites the same rows."""
    result = warehouse_build(incremental=incremental)
    return result.facts
