"""The CLV dashboard on forty customers with real repeat buying: each purchase model fits, the
calibration and tracking figures agree with counts taken straight from the orders, and per-customer
lists follow row access. (The churn page shows the scoring run: test_dash_churn.)"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from tests.insights.dash_data import repeat_base

from rapport.commerce.models import Order
from rapport.insights.warehouse import warehouse_build

PARAMS = {"bgnbd": {"r", "alpha", "a", "b"}, "mbgnbd": {"r", "alpha", "a", "b"}, "pnbd": {"r", "alpha", "s", "beta"}}


@pytest.fixture
def base(admin_user, rep, other_rep, wh_path):
    data = repeat_base(admin_user, rep, other_rep)
    warehouse_build()
    return data


def _orders_by_customer() -> dict[int, list[dt.date]]:
    out: dict[int, list[dt.date]] = defaultdict(list)
    for account_id, day in Order.objects.values_list("account_id", "order_date"):
        out[account_id].append(day)
    return out


def _week(day: dt.date) -> int:
    return (day - dt.date(1969, 12, 29)).days // 7  # Monday weeks, as the CLV summary counts them


@pytest.mark.django_db
def test_clv_models_fit_and_agree_with_the_orders(base, client_of, admin_user, manager):
    client = client_of(admin_user)
    orders = _orders_by_customer()
    weeks = {c: sorted({_week(d) for d in days}) for c, days in orders.items()}
    repeat_purchases = sum(len(w) - 1 for w in weeks.values())
    for model in ("bgnbd", "pnbd", "mbgnbd"):
        body = client.get(f"/api/v1/insights/clv?model={model}&top=40").json()
        assert body["status"] == "ok", body.get("message")
        assert set(body["fit"]["params"]) == set(body["fit"]["standard_errors"]) == PARAMS[model]
        assert all(v > 0 for v in body["fit"]["params"].values())
        assert body["fit"]["log_likelihood"] < 0 and body["customers"] == 40
        assert body["repeat_buyers"] == sum(1 for w in weeks.values() if len(w) > 1)
        assert -1 <= body["spend"]["correlation"] <= 1 and body["spend"]["verdict"]
        # Calibration groups every customer who had bought by the end of calibration.
        cal_end = dt.date.fromisoformat(body["calibration"]["calibration_end"])
        acquired = sum(1 for days in orders.values() if min(days) <= cal_end)
        assert sum(r["customers"] for r in body["calibration"]["rows"]) == acquired
        # Tracking ends at every repeat purchase period there is.
        assert body["tracking"]["actual"][-1] == repeat_purchases
        assert body["tracking"]["actual"] == sorted(body["tracking"]["actual"])
        assert sum(d["customers"] for d in body["deciles"]) == 40
        assert sum(d["share"] for d in body["deciles"]) == pytest.approx(1.0, abs=1e-3)
        top = body["top_customers"]
        assert len(top) == 40 and [c["clv"] for c in top] == sorted((c["clv"] for c in top), reverse=True)
    # Team A's manager gets team A's customers only (rep's: the even-numbered ones), ranked among themselves.
    everyone = {c["account_id"]: c["clv"] for c in client.get("/api/v1/insights/clv?top=40").json()["top_customers"]}
    mine = client_of(manager).get("/api/v1/insights/clv?top=40").json()["top_customers"]
    assert len(mine) == 20 and all(int(c["name"].split()[-1]) % 2 == 0 for c in mine)
    assert [c["rank"] for c in mine] == list(range(1, 21))
    assert all(everyone[c["account_id"]] == c["clv"] for c in mine)
    page = client.get("/insights/clv/?model=pnbd").content.decode()
    assert '<option value="pnbd" selected>Pareto/NBD</option>' in page
    assert "Holdout purchases by calibration purchases" in page and "Cumulative repeat purchases" in page
    assert page.count('class="chart') == 3
