"""Writes of the entry app (each: permission, one transaction, audit entry)."""

from fangkong.entry.services.arrivals import (
    ArrivalData,
    arrival_register,
    arrival_self_report,
    arrival_test_sample,
    place_review_resolve,
)
from fangkong.entry.services.checkpoints import (
    CheckpointData,
    checkpoint_create,
    checkpoint_update,
)
from fangkong.entry.services.classify import arrivals_reclassify
from fangkong.entry.services.lists import (
    ListMeta,
    risk_list_import,
    risk_list_publish,
    risk_list_withdraw,
)
from fangkong.entry.services.transfers import (
    TransferData,
    handoff_accept,
    transfer_create,
    transfer_depart,
    transfer_deviation_record,
    transfer_hand_over,
    transfers_escalate,
)

__all__ = [
    "ArrivalData",
    "CheckpointData",
    "ListMeta",
    "TransferData",
    "arrival_register",
    "arrival_self_report",
    "arrival_test_sample",
    "arrivals_reclassify",
    "checkpoint_create",
    "checkpoint_update",
    "handoff_accept",
    "place_review_resolve",
    "risk_list_import",
    "risk_list_publish",
    "risk_list_withdraw",
    "transfer_create",
    "transfer_depart",
    "transfer_deviation_record",
    "transfer_hand_over",
    "transfers_escalate",
]
