"""Re-encrypt personal identifiers with the newest field key (and optionally re-hash).

Key rotation: put a new key FIRST in FANGKONG_FIELD_KEYS, keep the old ones after
it, run ``fangkong rotate_keys``, then remove the old keys. With ``--rehash`` the
lookup hashes are recomputed with the current FANGKONG_LOOKUP_KEY.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from fangkong.core.audit import audit_record
from fangkong.core.crypto import decrypt, lookup_hash, rotate
from fangkong.core.models import Person

BATCH = 2000


class Command(BaseCommand):
    help = "Re-encrypt ID and phone numbers with the newest key of FANGKONG_FIELD_KEYS."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--rehash", action="store_true", help="also recompute the lookup hashes"
        )

    def handle(self, *args: Any, rehash: bool = False, **options: Any) -> None:
        last_id = 0
        done = 0
        fields = ["doc_number_encrypted", "phone_encrypted"]
        if rehash:
            fields += ["doc_hash", "phone_hash"]
        while True:
            with transaction.atomic():
                rows = list(
                    Person.objects.filter(pk__gt=last_id).order_by("pk").only("pk", *fields)[:BATCH]
                )
                if not rows:
                    break
                for p in rows:
                    p.doc_number_encrypted = rotate(p.doc_number_encrypted)
                    if p.phone_encrypted:
                        p.phone_encrypted = rotate(p.phone_encrypted)
                    if rehash:
                        p.doc_hash = lookup_hash("doc", decrypt(p.doc_number_encrypted))
                        p.phone_hash = (
                            lookup_hash("phone", decrypt(p.phone_encrypted))
                            if p.phone_encrypted
                            else ""
                        )
                Person.objects.bulk_update(rows, fields, batch_size=BATCH)
                last_id = rows[-1].pk
                done += len(rows)
        with transaction.atomic():
            audit_record(
                actor=None,
                action="keys.rotate",
                object_type="core.person",
                object_id="*",
                changes={"records": [None, done], "rehash": [None, rehash]},
            )
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {done} people."))
