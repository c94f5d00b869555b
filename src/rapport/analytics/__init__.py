"""Framework-free analytical models (CLV, churn, RFM, uplift, identity resolution, forecasting).

Nothing here imports Django or any other part of Rapport: functions take arrays or data frames
and return small frozen dataclasses, so they run in a notebook and test without a database.
"""
