from django.urls import path

from rapport.insights import views_dash

urlpatterns = [
    path("insights/", views_dash.overview_page, name="insights_overview"),
    path("insights/rfm/", views_dash.rfm_page, name="insights_rfm"),
    path("insights/clv/", views_dash.clv_page, name="insights_clv"),
    path("insights/churn/", views_dash.churn_page, name="insights_churn"),
    path("insights/defection/", views_dash.defection_page, name="insights_defection"),
]
