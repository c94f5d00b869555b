from django.urls import path

from rapport.insights import views_scores

urlpatterns = [
    path("insights/churn/alerts/", views_scores.churn_alerts_page, name="churn_alerts"),
    path("insights/churn/alerts/<int:pk>/outcome", views_scores.churn_alert_outcome, name="churn_alert_outcome"),
    path("insights/customers/<int:pk>/value", views_scores.customer_value_card, name="customer_value_card"),
]
