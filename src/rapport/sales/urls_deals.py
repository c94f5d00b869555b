from django.urls import path

from rapport.sales import views_deals as views
from rapport.sales import views_pipelines

urlpatterns = [
    path("board/", views.board_view, name="board"),
    path("pipelines/<int:pk>/board/", views.board_view, name="pipeline_board"),
    path("board/stages/<int:stage_id>/cards/", views.board_cards_view, name="board_cards"),
    path("opportunities/", views.opportunity_list_view, name="opportunity_list"),
    path("opportunities/export.csv", views.opportunity_export_view, name="opportunity_export"),
    path("opportunities/new/", views.opportunity_form_view, name="opportunity_create"),
    path("opportunities/<int:pk>/", views.opportunity_detail_view, name="opportunity_detail"),
    path("opportunities/<int:pk>/edit/", views.opportunity_form_view, name="opportunity_edit"),
    path("opportunities/<int:pk>/move/", views.opportunity_move_view, name="opportunity_move"),
    path("opportunities/<int:pk>/close/", views.opportunity_close_view, name="opportunity_close"),
    path("opportunities/<int:pk>/log/", views.opportunity_log_view, name="opportunity_log"),
    path("opportunities/<int:pk>/lines/", views.opportunity_lines_view, name="opportunity_lines"),
    path("opportunities/<int:pk>/lines/add/", views.opportunity_line_add_view, name="opportunity_line_add"),
    path("pipelines/", views_pipelines.pipeline_list_view, name="pipeline_list"),
    path("pipelines/<int:pk>/", views_pipelines.pipeline_setup_view, name="pipeline_setup"),
]
