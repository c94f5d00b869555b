"""Per-customer inputs of the scoring job, read from the warehouse with DuckDB SQL (no Python per row).

- ``orders_frame``: one row per order of a real customer (``customer_key`` > 0) up to ``end``:
  ``customer, date, amount, profit``. An order's amount is the sum of its lines' ``net_amount`` in
  the company currency (the document amount where no exchange rate is stored); profit subtracts
  the lines' cost where the product's cost is known.
- ``churn_features(end, horizon_days)``: one row per customer with an order on or before ``end``,
  described as of ``end`` only (nothing after ``end`` is read, so the frame at a past cut-off is an
  honest training row): recency, tenure, orders, mean order value, spend in the last horizon
  against the one before (``spend_change``: negative = declining), interactions and inbound contacts
  in the last horizon, days since the last interaction, payment problems (invoices open and past
  due at ``end``, and how many days the oldest of them is overdue), contracts (subscriptions active
  at ``end`` — started, not ended and not cancelled by then — and the days until the nearest of
  them ends or renews), service (cases and complaints opened in the last horizon, cases still
  open at ``end``, the mean satisfaction given on cases resolved by ``end``: a CSAT answer is
  taken as known from its case's resolution),
  campaign engagement (messages sent in the last horizon and the share of them opened by ``end``;
  whether the customer had unsubscribed by ``end``), and the customer's segment and region.
  Where there is nothing to average (no rated case, no message) the value is NaN, not a made-up 0.
- ``customers_frame``: every customer of ``dim_customer`` (key, owner key).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

ORDERS_CTE = """
orders AS (
  SELECT f.customer_key, f.order_id, min(d.date) AS day,
         sum(coalesce(f.net_amount, f.net_amount_doc)) AS amount,
         sum(coalesce(f.net_amount, f.net_amount_doc) - coalesce(f.cost_amount, 0)) AS profit
  FROM fact_order_line f JOIN dim_date d USING (date_key)
  WHERE f.customer_key <> 0
  GROUP BY f.customer_key, f.order_id
)"""

# The names are the model's features; the drivers shown to users are these names (see alerts.py).
CHURN_FEATURES_SQL = f"""
WITH {ORDERS_CTE},
o AS (SELECT * FROM orders WHERE day <= $end),
per_customer AS (
  SELECT customer_key,
         date_diff('day', max(day), $end) AS days_since_last_order,
         date_diff('day', min(day), $end) AS tenure_days,
         count(*) AS orders,
         CAST(avg(amount) AS DOUBLE) AS avg_order_value,
         CAST(coalesce(sum(amount) FILTER (WHERE day > $end - $h), 0)
              - coalesce(sum(amount) FILTER (WHERE day > $end - 2 * $h AND day <= $end - $h), 0) AS DOUBLE)
           AS spend_change
  FROM o GROUP BY customer_key
),
contacts AS (
  SELECT customer_key,
         count(*) FILTER (WHERE CAST(occurred_at AS DATE) > $end - $h) AS interactions,
         count(*) FILTER (WHERE CAST(occurred_at AS DATE) > $end - $h AND direction = 'inbound')
           AS inbound_contacts,
         date_diff('day', max(CAST(occurred_at AS DATE)), $end) AS days_since_last_interaction
  FROM fact_interaction WHERE customer_key <> 0 AND CAST(occurred_at AS DATE) <= $end
  GROUP BY customer_key
),
-- As it stood at $end: invoices issued by then, less what had been paid by then.
open_invoices AS (
  SELECT i.customer_key, i.due_date
  FROM fact_invoice i
  LEFT JOIN (SELECT invoice_id, sum(amount_doc) AS paid FROM fact_payment WHERE paid_on <= $end GROUP BY invoice_id)
    pay USING (invoice_id)
  WHERE i.issue_date <= $end AND i.due_date < $end AND coalesce(pay.paid, 0) < i.total_doc
),
payments AS (
  SELECT customer_key, count(*) AS overdue_invoices, date_diff('day', min(due_date), $end) AS days_overdue
  FROM open_invoices GROUP BY customer_key
),
contracts AS (
  SELECT customer_key, count(*) AS active_subscriptions,
         -- DOUBLE: NULL (no end or renewal date) reads as NaN even when every row has it
         CAST(min(date_diff('day', $end, coalesce(least(end_date, renewal_date), end_date, renewal_date))) AS DOUBLE)
           AS days_to_contract_end
  FROM fact_subscription
  WHERE start_date <= $end AND (end_date IS NULL OR end_date > $end)
    AND (cancelled_on IS NULL OR cancelled_on > $end)
  GROUP BY customer_key
),
service AS (
  SELECT customer_key,
         count(*) FILTER (WHERE CAST(opened_at AS DATE) > $end - $h) AS cases,
         count(*) FILTER (WHERE CAST(opened_at AS DATE) > $end - $h AND kind = 'complaint') AS complaints,
         count(*) FILTER (WHERE resolved_at IS NULL OR CAST(resolved_at AS DATE) > $end) AS open_cases,
         CAST(avg(satisfaction) FILTER (WHERE CAST(resolved_at AS DATE) <= $end) AS DOUBLE) AS avg_satisfaction
  FROM fact_case WHERE customer_key <> 0 AND CAST(opened_at AS DATE) <= $end
  GROUP BY customer_key
),
engagement AS (
  SELECT customer_key,
         count(*) FILTER (WHERE CAST(sent_at AS DATE) > $end - $h) AS campaigns_received,
         CAST(count(*) FILTER (WHERE CAST(sent_at AS DATE) > $end - $h AND CAST(opened_at AS DATE) <= $end) AS DOUBLE)
           / nullif(count(*) FILTER (WHERE CAST(sent_at AS DATE) > $end - $h), 0) AS campaign_open_rate,
         CAST(count(*) FILTER (WHERE CAST(unsubscribed_at AS DATE) <= $end) > 0 AS INTEGER) AS unsubscribed
  FROM fact_campaign_response WHERE customer_key <> 0 AND CAST(sent_at AS DATE) <= $end
  GROUP BY customer_key
)
SELECT p.customer_key, p.days_since_last_order, p.tenure_days, p.orders, p.avg_order_value, p.spend_change,
       coalesce(k.interactions, 0) AS interactions, coalesce(k.inbound_contacts, 0) AS inbound_contacts,
       k.days_since_last_interaction, coalesce(pm.overdue_invoices, 0) AS overdue_invoices,
       coalesce(pm.days_overdue, 0) AS days_overdue, coalesce(ct.active_subscriptions, 0) AS active_subscriptions,
       ct.days_to_contract_end, coalesce(sv.cases, 0) AS cases, coalesce(sv.complaints, 0) AS complaints,
       coalesce(sv.open_cases, 0) AS open_cases, sv.avg_satisfaction,
       coalesce(en.campaigns_received, 0) AS campaigns_received, en.campaign_open_rate,
       coalesce(en.unsubscribed, 0) AS unsubscribed, c.segment, c.region
FROM per_customer p
JOIN dim_customer c USING (customer_key)
LEFT JOIN contacts k USING (customer_key)
LEFT JOIN payments pm USING (customer_key)
LEFT JOIN contracts ct USING (customer_key)
LEFT JOIN service sv USING (customer_key)
LEFT JOIN engagement en USING (customer_key)
ORDER BY p.customer_key
"""


def orders_frame(con: duckdb.DuckDBPyConnection, *, end: dt.date) -> pd.DataFrame:
    return con.execute(
        f"WITH {ORDERS_CTE} SELECT customer_key AS customer, day AS date, CAST(amount AS DOUBLE) AS amount, "
        "CAST(profit AS DOUBLE) AS profit FROM orders WHERE day <= $end ORDER BY customer_key, day",
        {"end": end},
    ).df()


def churn_features(con: duckdb.DuckDBPyConnection, *, end: dt.date, horizon_days: int) -> pd.DataFrame:
    frame = con.execute(CHURN_FEATURES_SQL, {"end": end, "h": horizon_days}).df()
    return frame.set_index("customer_key")


def customers_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        "SELECT customer_key, owner_key FROM dim_customer WHERE customer_key <> 0 ORDER BY customer_key"
    ).df()


def warehouse_as_of(con: duckdb.DuckDBPyConnection) -> dt.date:
    """The day the warehouse's data was extracted (its watermark), in UTC."""
    row = con.execute("SELECT value FROM warehouse_meta WHERE key = 'watermark'").fetchone()
    if row is None:
        raise ValueError("the warehouse has no watermark")
    return dt.datetime.fromisoformat(row[0]).astimezone(dt.UTC).date()
