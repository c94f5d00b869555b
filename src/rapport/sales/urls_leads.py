from django.urls import path

from rapport.sales import views_leads as views

urlpatterns = [
    path("leads/", views.lead_list_view, name="lead_list"),
    path("leads/new/", views.lead_form_view, name="lead_create"),
    path("leads/import/", views.lead_import_view, name="lead_import"),
    path("leads/settings/", views.lead_setup_index, name="lead_setup_index"),
    path("leads/settings/<str:page>/", views.lead_setup_view, name="lead_setup"),
    path("leads/<int:pk>/", views.lead_detail_view, name="lead_detail"),
    path("leads/<int:pk>/edit/", views.lead_form_view, name="lead_edit"),
    path("leads/<int:pk>/status/", views.lead_status_view, name="lead_status"),
    path("leads/<int:pk>/log/", views.lead_log_view, name="lead_log"),
    path("leads/<int:pk>/assign/", views.lead_assign_view, name="lead_assign"),
    path("leads/<int:pk>/convert/", views.lead_convert_view, name="lead_convert"),
    # Public: no session, posted from other sites.
    path("f/<str:key>/", views.webform_submit_view, name="webform_submit"),
    path("f/confirm/<str:token>/", views.lead_opt_in_view, name="lead_opt_in"),
]
