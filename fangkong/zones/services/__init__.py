"""Writes of the zones app (zones and proposals, lifting, teams and door-step services)."""

from fangkong.zones.services.lifting import (
    lifting_evaluate_all,
    recommendation_accept,
    recommendation_dismiss,
    zone_evidence,
)
from fangkong.zones.services.requests import (
    service_request_assign,
    service_request_cancel,
    service_request_complete,
    service_request_confirm,
    service_request_create,
    service_requests_delivered,
    service_requests_escalate,
    team_member_add,
    team_member_remove,
)
from fangkong.zones.services.zones import (
    proposal_approve,
    proposal_refuse,
    zone_propose_change,
    zone_propose_declare,
)

__all__ = [
    "lifting_evaluate_all",
    "proposal_approve",
    "proposal_refuse",
    "recommendation_accept",
    "recommendation_dismiss",
    "service_request_assign",
    "service_request_cancel",
    "service_request_complete",
    "service_request_confirm",
    "service_request_create",
    "service_requests_delivered",
    "service_requests_escalate",
    "team_member_add",
    "team_member_remove",
    "zone_evidence",
    "zone_propose_change",
    "zone_propose_declare",
]
