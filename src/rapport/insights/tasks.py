from celery import shared_task

from rapport.insights.warehouse import warehouse_build


@shared_task(name="rapport.insights.tasks.warehouse_build_task")
def warehouse_build_task(incremental: bool = True) -> dict[str, int]:
    """Refresh the warehouse (incremental by default: the periodic job). Idempotent: a second run
    with nothing changed rewrites the same rows."""
    result = warehouse_build(incremental=incremental)
    return result.facts


@shared_task(name="rapport.insights.tasks.customers_score_task")
def customers_score_task() -> dict[str, int]:
    """Score every customer from the warehouse and raise churn alerts (the nightly job). Idempotent:
    a re-run on the same warehouse stores the same scores and raises no second alert."""
    from rapport.insights.scoring import customers_score

    result = customers_score()
    return {"customers": result.customers, "alerts": result.alerts}


@shared_task(name="rapport.insights.tasks.dashboards_precompute_task")
def dashboards_precompute_task() -> list[str]:
    """Fill the dashboards' cache for the live warehouse (every page and parameter), so the first
    visitor after a build does not wait for the model fits. Idempotent: a second run finds the
    figures cached under the same build and computes nothing. Useful only with a cache shared by
    the web processes (Redis, memcached, database or file cache; not the per-process default)."""
    from rapport.insights.selectors_dash import dashboards_precompute

    return dashboards_precompute()
