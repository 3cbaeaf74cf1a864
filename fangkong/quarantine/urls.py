from django.urls import path

from fangkong.quarantine import views

app_name = "quarantine"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("proposals/<int:proposal_id>/decide/", views.proposal_decide, name="proposal_decide"),
    path("sites/", views.site_list, name="sites"),
    path("sites/new/", views.site_new, name="site_new"),
    path("sites/<int:site_id>/", views.site_detail, name="site"),
    path("sites/<int:site_id>/transition/", views.site_transition, name="site_transition"),
    path("sites/<int:site_id>/acceptance/", views.site_accept, name="site_accept"),
    path("sites/<int:site_id>/rooms/", views.rooms_add, name="rooms_add"),
    path("sites/<int:site_id>/allocate/", views.site_allocate, name="allocate"),
    path("sites/<int:site_id>/admit/", views.admit, name="admit"),
    path("sites/<int:site_id>/monitoring/", views.monitoring, name="monitoring"),
    path("sites/<int:site_id>/staff/", views.staff_add, name="staff_add"),
    path("rooms/<int:room_id>/status/", views.room_status, name="room_status"),
    path("stays/", views.stay_list, name="stays"),
    path("stays/<int:stay_id>/", views.stay_detail, name="stay"),
    path("stays/<int:stay_id>/room/", views.stay_room, name="stay_room"),
    path("stays/<int:stay_id>/release/", views.stay_release, name="stay_release"),
    path("stays/<int:stay_id>/early-release/", views.stay_early_release, name="stay_early"),
    path("stays/<int:stay_id>/share/", views.stay_share, name="stay_share"),
    path("stays/<int:stay_id>/extend/", views.stay_extend, name="stay_extend"),
    path("stays/<int:stay_id>/transfer/", views.stay_transfer, name="stay_transfer"),
    path("stays/<int:stay_id>/certificate.pdf", views.stay_certificate, name="certificate"),
    path("stays/<int:stay_id>/order.pdf", views.stay_order, name="order"),
    path("tests/<int:test_id>/", views.test_result, name="test_result"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<int:approval_id>/decide/", views.approval_decide, name="approval_decide"),
    path("orders/", views.orders, name="orders"),
    path("staff/", views.staff, name="staff"),
    path("periods/<int:period_id>/rotate/", views.period_rotate, name="period_rotate"),
    path("periods/<int:period_id>/checks/", views.period_check, name="period_check"),
    path("staff-tests/<int:test_id>/", views.staff_test, name="staff_test"),
    path("breaches/<int:breach_id>/", views.breach_update, name="breach_update"),
    path("hospitals/", views.hospitals, name="hospitals"),
    path("hospitals/<int:hospital_id>/", views.hospital_detail, name="hospital"),
    path(
        "admissions/<int:admission_id>/severity/", views.patient_severity, name="patient_severity"
    ),
    path(
        "admissions/<int:admission_id>/transfer/", views.patient_transfer, name="patient_transfer"
    ),
    path(
        "admissions/<int:admission_id>/discharge/",
        views.patient_discharge,
        name="patient_discharge",
    ),
]
