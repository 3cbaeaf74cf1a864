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
        "rounds/<int:round_id>/untested/<int:node_id>.xlsx",
        views.untested_export,
        name="untested_export",
    ),
    path("tasks/<int:task_id>/done/", views.task_done, name="task_done"),
]
