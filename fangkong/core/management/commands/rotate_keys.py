"""Re-encrypt personal identifiers with the newest field key (and optionally re-hash).

Key rotation: put a new key FIRST in FANGKONG_FIELD_KEYS, keep the old ones after
it, run ``fangkong rotate_keys``, then remove the old keys. With ``--rehash`` the
lookup hashes are recomputed with the current FANGKONG_LOOKUP_KEY.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from fangkong.core.audit import audit_record
from fangkong.core.crypto import ENCRYPTED_COLUMNS, EncryptedColumn, decrypt, lookup_hash, rotate

BATCH = 2000


class Command(BaseCommand):
    help = (
        "Re-encrypt ID and phone numbers (people's, and every app's registered encrypted "
        "columns) with the newest key of FANGKONG_FIELD_KEYS."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--rehash", action="store_true", help="also recompute the lookup hashes"
        )

    def handle(self, *args: Any, rehash: bool = False, **options: Any) -> None:
        by_model: dict[str, list[EncryptedColumn]] = defaultdict(list)
        for column in ENCRYPTED_COLUMNS:
            by_model[column.model].append(column)
        done: dict[str, int] = {}
        for label, columns in by_model.items():
            done[label] = self._rotate(apps.get_model(label), columns, rehash=rehash)
        with transaction.atomic():
            audit_record(
                actor=None,
                action="keys.rotate",
                object_type="core.person",
                object_id="*",
                changes={"records": [None, sum(done.values())], "rehash": [None, rehash]},
            )
        for label, n in done.items():
            self.stdout.write(self.style.SUCCESS(f"Re-encrypted {n} records of {label}."))

    def _rotate(self, model: Any, columns: list[EncryptedColumn], *, rehash: bool) -> int:
        fields = [c.encrypted for c in columns]
        if rehash:
            fields += [c.hash_field for c in columns]
        last_id, done = 0, 0
        while True:
            with transaction.atomic():
                rows = list(
                    model.objects.filter(pk__gt=last_id).order_by("pk").only("pk", *fields)[:BATCH]
                )
                if not rows:
                    return done
                for row in rows:
                    for c in columns:
                        value = getattr(row, c.encrypted)
                        if value:
                            setattr(row, c.encrypted, rotate(value))
                        if rehash:
                            clear = decrypt(getattr(row, c.encrypted)) if value else ""
                            setattr(row, c.hash_field, lookup_hash(c.kind, clear) if clear else "")
                model.objects.bulk_update(rows, fields, batch_size=BATCH)
                last_id = rows[-1].pk
                done += len(rows)
