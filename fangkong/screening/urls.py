from django.urls import path

from fangkong.screening import views

app_name = "screening"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("sample/", views.sampler, name="sampler"),
    path("boxes/", views.boxes, name="boxes"),
    path("lab/", views.lab, name="lab"),
    path("rounds/<int:round_id>/", views.round_dashboard, name="round"),
    path("rounds/<int:round_id>/coverage.xlsx", views.coverage_export, name="coverage_export"),
    path("rounds/<int:round_id>/untested/<int:node_id>/", views.untested, name="untested"),
    path(
        "rounds/<int:round_id>/untested/<int:node_id>/action/",
        views.untested_action,
        name="untested_action",
    ),
    path(
        "rounds/<int:round_id>/untested/<int:node_id>/reminders/",
        views.untested_reminders,
        name="untested_reminders",
    ),
    path(
        "rounds/<int:round_id>/untested/<int:node_id>.xlsx",
        views.untested_export,
        name="untested_export",
    ),
    path("tasks/<int:task_id>/done/", views.task_done, name="task_done"),
    path("setup/rounds/", views.rounds_manage, name="rounds_manage"),
    path("setup/rounds/<int:round_id>/close/", views.round_close, name="round_close"),
    path("setup/sites/", views.sites_manage, name="sites_manage"),
    path("setup/sites/<int:site_id>/queue/", views.site_queue, name="site_queue"),
    path("setup/sites/<int:site_id>/edit/", views.site_edit, name="site_edit"),
    path("setup/labs/", views.labs_manage, name="labs_manage"),
    path("setup/labs/<int:lab_id>/edit/", views.lab_edit, name="lab_edit"),
    path("setup/teams/", views.teams_manage, name="teams_manage"),
    path("setup/teams/<int:team_id>/edit/", views.team_edit, name="team_edit"),
    path("reviews/", views.reviews, name="reviews"),
]
