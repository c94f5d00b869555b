from django.urls import path, re_path

from rapport.activities import views, views_calendar

_PARTY = r"^(?P<kind>contacts|accounts)/(?P<pk>[0-9]+)/"

urlpatterns = [
    path("", views.home, name="home"),
    path("tasks/", views.my_tasks_view, name="my_tasks"),
    path("tasks/<int:pk>/done/", views.task_done_view, name="task_done"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact_detail"),
    path("accounts/<int:pk>/", views.account_detail, name="account_detail"),
    re_path(_PARTY + r"timeline/$", views.party_timeline, name="party_timeline"),
    re_path(_PARTY + r"notes/$", views.note_add_view, name="party_note_add"),
    re_path(_PARTY + r"interactions/$", views.interaction_add_view, name="party_interaction_add"),
    re_path(_PARTY + r"tasks/$", views.task_add_view, name="party_task_add"),
    re_path(_PARTY + r"attachments/$", views.attachment_add_view, name="party_attachment_add"),
    path("attachments/<int:pk>/download/", views.attachment_download, name="attachment_download"),
    path("interactions/<int:pk>/calendar.ics", views_calendar.meeting_ics_view, name="meeting_ics"),
    path("calendar/", views_calendar.calendar_view, name="calendar"),
    path("calendar/feed/<str:token>/rapport.ics", views_calendar.calendar_feed_view, name="calendar_feed"),
]
