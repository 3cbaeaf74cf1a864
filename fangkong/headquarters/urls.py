from django.urls import path

from fangkong.headquarters import views, views_ops

app_name = "headquarters"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/retests/", views.overdue_retests, name="retests"),
    path("dashboard/retests/rectify/", views.rectification_order, name="rectify"),
    path("reports/", views.report_list, name="reports"),
    path("reports/make/", views.report_make, name="report_make"),
    path("reports/<int:report_id>/", views.report_detail, name="report"),
    path("reports/<int:report_id>/report.pdf", views.report_pdf, name="report_pdf"),
    path("reports/<int:report_id>/report.xlsx", views.report_xlsx, name="report_xlsx"),
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/new/", views.task_new, name="task_new"),
    path("tasks/<int:task_id>/", views.task_detail, name="task"),
    path("tasks/<int:task_id>/assign/", views.task_assign, name="task_assign"),
    path("tasks/<int:task_id>/done/", views.task_complete, name="task_complete"),
    path("tasks/<int:task_id>/cancel/", views.task_cancel, name="task_cancel"),
]

# Supervision inspections, accountability, task forces, duty and staff care.
urlpatterns += [
    path("inspections/", views_ops.plans, name="plans"),
    path("inspections/new/", views_ops.plan_new, name="plan_new"),
    path("inspections/<int:plan_id>/", views_ops.plan_detail, name="plan"),
    path("inspections/<int:plan_id>/visit/", views_ops.visit_new, name="visit_new"),
    path("inspections/<int:plan_id>/close/", views_ops.plan_close, name="plan_close"),
    path(
        "inspections/findings/<int:finding_id>/reinspect/",
        views_ops.finding_reinspect,
        name="finding_reinspect",
    ),
    path("inspections/photos/<int:photo_id>/", views_ops.finding_photo, name="finding_photo"),
    path("accountability/", views_ops.accountability_list, name="accountability_list"),
    path("accountability/new/", views_ops.accountability_new, name="accountability_new"),
    path(
        "accountability/<int:record_id>/",
        views_ops.accountability_detail,
        name="accountability",
    ),
    path("duty/", views_ops.duty, name="duty"),
    path("duty/shifts/new/", views_ops.shift_new, name="shift_new"),
    path("duty/handovers/new/", views_ops.handover_new, name="handover_new"),
    path(
        "duty/handovers/<int:handover_id>/receive/",
        views_ops.handover_receive,
        name="handover_receive",
    ),
    path("taskforces/", views_ops.taskforces, name="taskforces"),
    path("taskforces/<int:tf_id>/", views_ops.taskforce_detail, name="taskforce"),
    path("care/", views_ops.care, name="care"),
    path("care/rotations/new/", views_ops.rotation_new, name="rotation_new"),
    path("care/recognitions/new/", views_ops.recognition_new, name="recognition_new"),
]
