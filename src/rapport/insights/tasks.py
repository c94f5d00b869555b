import logging

from celery import shared_task

from rapport.insights.warehouse import warehouse_build

log = logging.getLogger(__name__)


def _precompute_after(job: str) -> None:
    """Warm the dashboards' cache once ``job`` has changed what they show. Best effort: the job's own
    work is done and committed, so a failure here is logged, not raised (a visitor then computes the
    figures on the first request, as without a shared cache)."""
    from rapport.insights.selectors_dash import dashboards_precompute

    try:
        dashboards_precompute()
    except Exception:
        log.exception("dashboards precompute after %s failed", job)


@shared_task(name="rapport.insights.tasks.warehouse_build_task")
def warehouse_build_task(incremental: bool = True) -> dict[str, int]:
    """Refresh the warehouse (incremental by default: the periodic job), then warm the dashboards'
    cache for the new build. Idempotent: a second run with nothing changed rewrites the same rows."""
    result = warehouse_build(incremental=incremental)
    _precompute_after("warehouse build")
    return result.facts


@shared_task(name="rapport.insights.tasks.customers_score_task")
def customers_score_task() -> dict[str, int]:
    """Score every customer from the warehouse and raise churn alerts (the nightly job), then warm the
    dashboards' cache (the churn page's stored risk is keyed by the run). Idempotent: a re-run on the
    same warehouse stores the same scores and raises no second alert."""
    from rapport.insights.scoring import customers_score

    result = customers_score()
    _precompute_after("scoring")
    return {"customers": result.customers, "alerts": result.alerts}


@shared_task(name="rapport.insights.tasks.dashboards_precompute_task")
def dashboards_precompute_task() -> list[str]:
    """Fill the dashboards' cache for the live warehouse (every page and parameter) and the latest
    scoring run, so the first visitor after a build does not wait for the model fits. Idempotent: a
    second run finds the figures cached under the same build and run and computes nothing. Useful
    only with a cache shared by the web processes (``RAPPORT_CACHE_URL``, or the default file cache
    when they all run on one machine; not a per-process memory cache)."""
    from rapport.insights.selectors_dash import dashboards_precompute

    return dashboards_precompute()
