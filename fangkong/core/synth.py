"""The synthetic city: a deterministic, realistic Taiyuan for demos, tests and benchmarks.

``synthetic_city_build(residents=N, seed=S, districts=D)`` builds, under 山西省 >
太原市, D real districts (小店区 140105 ...) down to buildings, each node with
Chinese and English names and a rectangle boundary nested in its parent's; then
households (sizes 1-6) of residents with valid resident ID numbers, names,
phones, ages following the 2020 census pyramid, key groups, limited mobility;
and venues (shops, restaurants, schools, hospitals, transport hubs ...).

Same seed, same city: every random choice comes from ``random.Random`` streams
seeded from ``seed``; nothing depends on the clock (ages are counted at
``REFERENCE_DATE``). Only ciphertexts differ between runs (Fernet uses a random
IV), the clear values are identical.

It is fast because it writes with ``executemany`` on the cursor (explicit ids,
no model instances for people), encrypts in batches (``encrypt_many``), and for
large cities rebuilds the hash and name indexes once at the end instead of
inserting into them row by row. (A pool of encryption processes was measured and
dropped: on a shared two-core machine pickling the rows cost more than it saved.)
A trusted bulk loader: no permission check, one audit row for the whole run.
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import hashlib
import math
import os
import random
import struct
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max, Model
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import ric

from fangkong.core import synth_data as data
from fangkong.core.audit import audit_record
from fangkong.core.crypto import mask
from fangkong.core.errors import Conflict, ValidationFailed
from fangkong.core.models import Household, Jurisdiction, KeyGroup, Person, path_segment
from fangkong.core.services import jurisdiction_build, jurisdiction_recount
from fangkong.core.types import Actor

T = TypeVar("T")

# Ages are counted at this date, so the same seed gives the same birth dates forever.
REFERENCE_DATE = dt.date(2025, 7, 1)
CHUNK = 20_000  # people generated, encrypted and inserted per step
DEFER_INDEXES_FROM = 100_000  # residents from which random-order indexes are rebuilt at the end
VENUES_PER_THOUSAND = 6.0  # Taiyuan registered 30,000+ venue codes for ~5 M people

Box = tuple[float, float, float, float]  # west, south, east, north
Progress = Callable[[str], None]


@dataclass
class NodePlan:
    level: str
    name_zh: str
    name_en: str
    box: Box
    code: str | None = None
    capacity: int = 0  # residents (buildings only)
    children: list[NodePlan] = field(default_factory=list)
    parent: NodePlan | None = None
    obj: Jurisdiction | None = None


@dataclass(frozen=True)
class SynthResult:
    city_id: int
    residents: int
    households: int
    jurisdictions: int
    venues: int
    seconds: float
    cpu_seconds: float = 0.0  # user + system time of this process (load-independent)

    @property
    def per_second(self) -> float:
        return self.residents / self.seconds if self.seconds else 0.0


# --- Geometry --------------------------------------------------------------


def polygon(box: Box) -> dict[str, Any]:
    w, s, e, n = (round(v, 6) for v in box)
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def split_box(box: Box, k: int) -> list[Box]:
    """``k`` disjoint rectangles inside ``box`` (a near-square grid, small margins)."""
    w, s, e, n = box
    cols = max(1, math.ceil(math.sqrt(k)))
    rows = max(1, math.ceil(k / cols))
    dx, dy = (e - w) / cols, (n - s) / rows
    mx, my = dx * 0.04, dy * 0.04
    out = []
    for i in range(k):
        c, r = i % cols, i // cols
        x0, y0 = w + c * dx, s + r * dy
        out.append((x0 + mx, y0 + my, x0 + dx - mx, y0 + dy - my))
    return out


# --- The plan of the tree --------------------------------------------------


def _groups(rng: random.Random, items: Sequence[Any], lo: int, hi: int) -> list[list[Any]]:
    out: list[list[Any]] = []
    i = 0
    while i < len(items):
        k = rng.randint(lo, hi)
        out.append(list(items[i : i + k]))
        i += k
    return out


def _split_residents(total: int, weights: list[int]) -> list[int]:
    w = sum(weights)
    shares = [total * x / w for x in weights]
    counts = [int(x) for x in shares]
    rest = total - sum(counts)
    order = sorted(range(len(weights)), key=lambda i: (-(shares[i] - counts[i]), i))
    for i in order[:rest]:
        counts[i] += 1
    return counts


def _place_names(rng: random.Random, n: int) -> list[tuple[str, str]]:
    words = list(data.PLACE_WORDS)
    rng.shuffle(words)
    prefixes = [("", ""), ("东", "East "), ("西", "West "), ("南", "South "), ("北", "North ")]
    out = []
    for i in range(n):
        zh, en = words[i % len(words)]
        pz, pe = prefixes[(i // len(words)) % len(prefixes)]
        lap = i // (len(words) * len(prefixes))
        suffix_zh, suffix_en = (str(lap + 1), f" {lap + 1}") if lap else ("", "")
        out.append((pz + zh + suffix_zh, pe + en + suffix_en))
    return out


def plan_district(
    rng: random.Random, code: str, name_zh: str, name_en: str, box: Box, residents: int
) -> NodePlan:
    district = NodePlan("district", name_zh, name_en, box, code=code)
    caps: list[int] = []
    left = residents
    while left > 0:
        c = min(rng.randint(60, 150), left)
        caps.append(c)
        left -= c
    if not caps:
        caps = [0]
    grids = _groups(rng, caps, 8, 15)
    communities = _groups(rng, grids, 4, 10)
    subdistricts = _groups(rng, communities, 3, 8)
    real = data.SUBDISTRICTS.get(code, [])
    words = _place_names(rng, len(communities))
    ci = 0
    for si, sub_coms in enumerate(subdistricts):
        sz, se = (
            real[si]
            if si < len(real)
            else (f"新区第{si + 1}街道", f"New Area Subdistrict {si + 1}")
        )
        rural = sz.endswith(("镇", "乡"))
        sub = NodePlan("subdistrict", sz, se, (0, 0, 0, 0), parent=district)
        district.children.append(sub)
        for com_grids in sub_coms:
            wz, we = words[ci]
            ci += 1
            cz, ce = (f"{wz}村", f"{we} Village") if rural else (f"{wz}社区", f"{we} Community")
            com = NodePlan("community", cz, ce, (0, 0, 0, 0), parent=sub)
            sub.children.append(com)
            number = 0
            for gi, grid_caps in enumerate(com_grids, start=1):
                grid = NodePlan(
                    "grid", f"{cz}第{gi}网格", f"{ce} Grid {gi}", (0, 0, 0, 0), parent=com
                )
                com.children.append(grid)
                for cap in grid_caps:
                    number += 1
                    grid.children.append(
                        NodePlan(
                            "building",
                            f"{number}号楼",
                            f"Building {number}",
                            (0, 0, 0, 0),
                            capacity=cap,
                            parent=grid,
                        )
                    )
    _place(district)
    return district


def _place(node: NodePlan) -> None:
    for child, box in zip(node.children, split_box(node.box, len(node.children)), strict=True):
        child.box = box
        _place(child)


def walk(node: NodePlan) -> Iterable[NodePlan]:
    yield node
    for c in node.children:
        yield from walk(c)


# --- People ----------------------------------------------------------------


class _People:
    """Deterministic generator of households and residents."""

    def __init__(self, rng: random.Random, key_group_ids: dict[str, int]) -> None:
        self.rng = rng
        self.kg = key_group_ids
        ages = list(range(101))
        weights = [data.AGE_GROUPS_PERCENT[min(a // 5, 20)] / (5 if a < 100 else 1) for a in ages]
        self.age_cum = list(_cumsum(weights))
        self.size_cum = list(_cumsum(data.HOUSEHOLD_SIZE_PERCENT))
        self.surnames = [(z, e) for z, e, _w in data.SURNAMES]
        self.surname_cum = list(_cumsum([w for _z, _e, w in data.SURNAMES]))
        self.occupations = [(self.kg.get(c), n) for c, n in data.OCCUPATION_PER_THOUSAND]
        self.passports: set[str] = set()
        self.ref_ordinal = REFERENCE_DATE.toordinal()

    # Sampling helpers (``below`` and ``pick`` are cheaper than randrange/choice)
    def below(self, n: int) -> int:
        return int(self.rng.random() * n)

    def pick(self, seq: Sequence[T]) -> T:
        return seq[int(self.rng.random() * len(seq))]

    def age(self, lo: int = 0, hi: int = 100) -> int:
        base = self.age_cum[lo - 1] if lo > 0 else 0.0
        u = base + self.rng.random() * (self.age_cum[hi] - base)
        return min(bisect.bisect_left(self.age_cum, u), hi)

    def surname(self) -> int:
        u = self.rng.random() * self.surname_cum[-1]
        return bisect.bisect_left(self.surname_cum, u)

    def household_size(self) -> int:
        u = self.rng.random() * self.size_cum[-1]
        return bisect.bisect_left(self.size_cum, u) + 1

    def _sex(self) -> str:
        return "M" if self.rng.random() < 0.512 else "F"

    def _child_age(self, parent: int) -> int:
        return max(0, parent - 22 - self.below(13))

    def members(self, size: int) -> list[tuple[int, str, int]]:
        """(age, sex, surname index) of each member; the head first."""
        rng = self.rng
        fam = self.surname()
        out: list[tuple[int, str, int]] = []

        def couple(lo: int, hi: int) -> int:
            a = self.age(lo, hi)
            head_sex = self._sex()
            spouse = min(100, max(18, a + round(rng.gauss(0, 3))))
            out.append((a, head_sex, fam))
            out.append((spouse, "F" if head_sex == "M" else "M", self.surname()))
            return min(a, spouse) if head_sex == "M" else a

        def children(mother: int, k: int) -> None:
            for _i in range(k):
                out.append((self._child_age(mother), self._sex(), fam))

        def grandparents(parent: int, k: int) -> None:
            g = min(100, parent + 22 + self.below(13))
            if k == 2:
                out.append((g, "M", fam))
                out.append((min(100, max(40, g + round(rng.gauss(-2, 3)))), "F", self.surname()))
            else:
                out.append((g, self._sex(), fam if rng.random() < 0.5 else self.surname()))

        if size == 1:
            lo, hi = (60, 100) if rng.random() < 0.4 else (18, 59)
            out.append((self.age(lo, hi), self._sex(), fam))
        elif size == 2:
            r = rng.random()
            if r < 0.4:
                couple(60, 95)
            elif r < 0.8:
                couple(22, 59)
            else:
                p = self.age(30, 75)
                out.append((p, self._sex(), fam))
                children(p, 1)
        elif size == 3:
            children(couple(26, 55), 1)
        elif size == 4:
            if rng.random() < 0.65:
                children(couple(28, 52), 2)
            else:
                m = couple(25, 55)
                children(m, 1)
                grandparents(m, 1)
        elif size == 5:
            r = rng.random()
            m = couple(25, 50)
            if r < 0.55:
                children(m, 1)
                grandparents(m, 2)
            elif r < 0.85:
                children(m, 2)
                grandparents(m, 1)
            else:
                children(m, 3)
        else:
            m = couple(25, 48)
            children(m, 2)
            grandparents(m, 2)
        return out

    def given_name(self, sex: str, birth_year: int) -> str:
        rng = self.rng
        if birth_year < 1970 and rng.random() < 0.35:
            return self.pick(data.OLD_MALE_NAMES if sex == "M" else data.OLD_FEMALE_NAMES)
        chars = data.MALE_CHARS if sex == "M" else data.FEMALE_CHARS
        if rng.random() < 0.25:
            return self.pick(chars)
        return self.pick(chars) + self.pick(chars)

    def phone(self, age: int) -> str:
        rng = self.rng
        p = 0.0 if age < 12 else 0.6 if age < 18 else 0.97 if age < 80 else 0.55
        if rng.random() >= p:
            return ""
        return f"+86{self.pick(data.MOBILE_PREFIXES)}{self.below(100_000_000):08d}"

    def key_groups(self, age: int) -> list[int]:
        rng = self.rng
        out: list[int | None] = []
        if 6 <= age <= 18 and rng.random() < 0.97 or 19 <= age <= 22 and rng.random() < 0.5:
            out.append(self.kg.get("students"))
        elif 18 <= age <= 60:
            u = rng.random() * 1000
            acc = 0
            for kg_id, per_thousand in self.occupations:
                acc += per_thousand
                if u < acc:
                    out.append(kg_id)
                    break
        if age >= 80:
            out.append(self.kg.get("elderly_80"))
        return [k for k in out if k is not None]

    def limited_mobility(self, age: int) -> bool:
        p = 0.016 if age < 60 else 0.05 if age < 70 else 0.12 if age < 80 else 0.30
        return self.rng.random() < p

    def birth(self, age: int) -> int:
        """A birth date (as an ordinal) for someone ``age`` years old at REFERENCE_DATE."""
        return self.ref_ordinal - int(age * 365.2425) - self.below(365)

    def passport(self) -> str:
        while True:
            number = f"{self.rng.choice('EGPK')}{self.rng.randrange(10**8):08d}"
            if number not in self.passports:
                self.passports.add(number)
                return number


class _IdMaker:
    """Resident ID numbers of one region, as ``make_prc_id`` makes them, with the
    per-date work (formatting, adapting for the database) done once per date."""

    def __init__(self, region: str, adapt: Callable[[dt.date], Any]) -> None:
        self.region = region
        self.adapt = adapt
        self.dates: dict[int, tuple[str, Any, int]] = {}

    def _date(self, ordinal: int) -> tuple[str, Any, int]:
        found = self.dates.get(ordinal)
        if found is None:
            day = dt.date.fromordinal(ordinal)
            found = self.dates[ordinal] = (f"{day:%Y%m%d}", self.adapt(day), day.year)
        return found

    def make(self, ordinal: int, sequence: int) -> str:
        body = f"{self.region}{self._date(ordinal)[0]}{sequence:03d}"
        return body + ric.calc_check_digit(body + "0")

    def adapted(self, ordinal: int) -> Any:
        return self._date(ordinal)[1]

    def year(self, ordinal: int) -> int:
        return self._date(ordinal)[2]


def _cumsum(values: Iterable[float]) -> Iterable[float]:
    acc = 0.0
    for v in values:
        acc += v
        yield acc


# --- Writing ---------------------------------------------------------------

_PERSON_COLUMNS = [
    "id",
    "created_at",
    "updated_at",
    "doc_type",
    "doc_number_encrypted",
    "doc_hash",
    "doc_masked",
    "name",
    "sex",
    "birth_date",
    "phone_encrypted",
    "phone_hash",
    "phone_masked",
    "home_id",
    "scope_path",
    "home_unit",
    "household_id",
    "limited_mobility",
    "language",
]
_HOUSEHOLD_COLUMNS = ["id", "created_at", "updated_at", "building_id", "unit", "external_ref"]

# A plain person row: what the generator produces and the sealer encrypts.
PlainRow = tuple[int, str, str, str, str, Any, str, int, str, str, int, bool, str]


def encrypt_many(values: list[str]) -> list[str]:
    """Fernet tokens of ``values`` under the current key, made in one batch.

    Byte for byte what ``core.crypto.encrypt`` makes (version, timestamp, random
    IV, AES-128-CBC with PKCS7 padding, HMAC-SHA256; the tests decrypt them with
    ``core.crypto.decrypt``), about three times faster: the AES rounds of every
    value go through one cipher call per block position, chaining CBC by hand.
    """
    key = base64.urlsafe_b64decode(settings.FANGKONG_FIELD_KEYS[0])
    signing, secret = key[:16], key[16:]
    n = len(values)
    padded = []
    for value in values:
        raw = value.encode()
        pad = 16 - len(raw) % 16
        padded.append(raw + bytes((pad,)) * pad)
    ivs = os.urandom(16 * n)
    bodies = [b""] * n
    active = list(range(n))
    previous = ivs  # the block each value's next plaintext block is chained with
    lo = 0
    while active:
        hi = lo + 16
        plain = b"".join([padded[i][lo:hi] for i in active])
        mixed = int.from_bytes(plain, "big") ^ int.from_bytes(previous, "big")
        # ECB on single blocks is the AES primitive; the CBC chaining is the XOR above.
        block_cipher = Cipher(algorithms.AES(secret), modes.ECB())  # noqa: S305
        out = block_cipher.encryptor().update(mixed.to_bytes(len(plain), "big"))
        still, chained = [], []
        for j, i in enumerate(active):
            block = out[j * 16 : j * 16 + 16]
            bodies[i] += block
            if len(padded[i]) > hi:
                still.append(i)
                chained.append(block)
        active, previous, lo = still, b"".join(chained), hi
    head = b"\x80" + struct.pack(">Q", int(time.time()))
    sign = hmac_sha256(signing)
    tokens = []
    for i in range(n):
        msg = head + ivs[i * 16 : i * 16 + 16] + bodies[i]
        tokens.append(base64.urlsafe_b64encode(msg + sign(msg)).decode())
    return tokens


def hmac_sha256(key: bytes) -> Callable[[bytes], bytes]:
    """HMAC-SHA256 with ``key`` (RFC 2104), the pads hashed once: twice as fast as
    ``hmac.digest`` for millions of short messages. Tested against ``hmac``."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def mac(msg: bytes) -> bytes:
        i = inner.copy()
        i.update(msg)
        o = outer.copy()
        o.update(i.digest())
        return o.digest()

    return mac


def seal(rows: list[PlainRow], created: Any) -> list[tuple[Any, ...]]:
    """Encrypt, hash and mask identifiers: the values ``person_instance`` stores."""
    lookup = hmac_sha256(str(settings.FANGKONG_LOOKUP_KEY).encode())

    def keyed(kind: str, value: str) -> str:  # = core.crypto.lookup_hash
        return lookup(f"{kind}:{value}".encode()).hex()

    docs = encrypt_many([r[2] for r in rows])
    phones = iter(encrypt_many([r[6] for r in rows if r[6]]))
    out = []
    for (pid, doc_type, doc, name, sex, birth, phone, home, path, unit, hh, lm, lang), enc in zip(
        rows, docs, strict=True
    ):
        out.append(
            (
                pid,
                created,
                created,
                doc_type,
                enc,
                keyed("doc", doc),
                mask(doc),
                name,
                sex,
                birth,
                next(phones) if phone else "",
                keyed("phone", phone) if phone else "",
                mask(phone, 3, 4) if phone else "",
                home,
                path,
                unit,
                hh,
                lm,
                lang,
            )
        )
    return out


def _insert_sql(table: str, columns: list[str]) -> str:
    qn = connection.ops.quote_name
    cols = ", ".join(qn(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO {qn(table)} ({cols}) VALUES ({marks})"  # noqa: S608 - fixed names


def _next_id(model: type[Model]) -> int:
    return int(model._default_manager.aggregate(m=Max("id"))["m"] or 0) + 1


def _reset_sequences(*models: type[Model]) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), list(models))
    with connection.cursor() as cur:
        for sql in statements:
            cur.execute(sql)


def analyze_tables() -> None:
    """Refresh the planner's statistics after a bulk load.

    Without them SQLite prefers the ``merged_into`` index (``IS NULL`` looks like
    an equality) over the ``scope_path`` range, and scans every person to list
    one grid.
    """
    from django.apps import apps

    venue_model = apps.get_model("investigation", "Venue")  # the table name only
    tables = [
        m._meta.db_table
        for m in (Person, Household, Jurisdiction, venue_model, Person.key_groups.through)
    ]
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("ANALYZE")
        elif connection.vendor == "postgresql":
            cur.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables))


# --- The build -------------------------------------------------------------


def synthetic_city_build(
    *,
    residents: int,
    seed: int,
    districts: int = 10,
    progress: Progress | None = None,
    actor: Actor = None,
) -> SynthResult:
    """Build the synthetic city (see the module docstring). Returns counts and timing."""
    if residents < 1:
        raise ValidationFailed(fields={"residents": _("Give at least one resident.")})
    if not 1 <= districts <= len(data.DISTRICTS):
        raise ValidationFailed(
            fields={
                "districts": _("Choose between 1 and %(max)s districts.")
                % {"max": len(data.DISTRICTS)}
            }
        )
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    cpu_started = time.process_time()
    chosen = data.DISTRICTS[:districts]
    taken = list(
        Jurisdiction.objects.filter(code__in=[d[0] for d in chosen]).values_list("code", flat=True)
    )
    if taken:
        raise Conflict(
            fields={
                "districts": _(
                    "These districts already exist: %(codes)s. The synthetic city is built "
                    "into an empty city only."
                )
                % {"codes": ", ".join(sorted(str(c) for c in taken))}
            }
        )

    tree_rng = random.Random(seed)
    counts = _split_residents(residents, [d[3] for d in chosen])
    plans = [
        plan_district(tree_rng, code, zh, en, box, n)
        for (code, zh, en, _w, box), n in zip(chosen, counts, strict=True)
    ]
    with transaction.atomic():
        person_table = connection.ops.quote_name(Person._meta.db_table)
        with connection.cursor() as cur:
            if connection.vendor == "sqlite":
                cur.execute("PRAGMA cache_size = -262144")  # 256 MB while loading
            elif connection.vendor == "postgresql":
                household_table = connection.ops.quote_name(Household._meta.db_table)
                cur.execute(
                    f"LOCK TABLE {person_table}, {household_table} IN SHARE ROW EXCLUSIVE MODE"
                )
        city = _ensure_city()
        n_nodes = _insert_tree(city, plans)
        say(f"tree: {n_nodes} jurisdiction nodes ({time.perf_counter() - started:.1f} s)")
        deferred = _drop_random_order_indexes() if residents >= DEFER_INDEXES_FROM else []
        households, people = _insert_people(plans, seed, say, started)
        if deferred:
            with connection.cursor() as cur:
                if connection.vendor == "postgresql":
                    # Pending deferred foreign-key checks would forbid CREATE INDEX.
                    cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
                    cur.execute("SET CONSTRAINTS ALL DEFERRED")
                for ddl in deferred:
                    cur.execute(ddl)
            say(f"person indexes rebuilt ({time.perf_counter() - started:.1f} s)")
        venues = _insert_venues(plans, seed)
        say(f"venues: {venues} ({time.perf_counter() - started:.1f} s)")
        _reset_sequences(Person, Household)
        jurisdiction_recount(root=city.parent)
        say(f"resident counts refreshed ({time.perf_counter() - started:.1f} s)")
        audit_record(
            actor=actor,
            action="synth.build",
            obj=city,
            scope_path=city.path,
            changes={
                "seed": [None, seed],
                "seconds": [None, round(time.perf_counter() - started, 1)],
                "residents": [None, people],
                "households": [None, households],
                "districts": [None, [d[0] for d in chosen]],
                "venues": [None, venues],
            },
        )
    say(f"committed ({time.perf_counter() - started:.1f} s)")
    analyze_tables()
    say(f"table statistics refreshed ({time.perf_counter() - started:.1f} s)")
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    return SynthResult(city.pk, people, households, n_nodes, venues, seconds, cpu)


def _ensure_city() -> Jurisdiction:
    code, zh, en, box = data.PROVINCE
    province = Jurisdiction.objects.filter(code=code).first() or jurisdiction_build(
        parent=None, level="province", name_zh=zh, name_en=en, code=code, boundary=polygon(box)
    )
    code, zh, en, box = data.CITY
    return Jurisdiction.objects.filter(code=code).first() or jurisdiction_build(
        parent=province, level="city", name_zh=zh, name_en=en, code=code, boundary=polygon(box)
    )


def _insert_tree(city: Jurisdiction, plans: list[NodePlan]) -> int:
    city = Jurisdiction.objects.select_for_update().get(pk=city.pk)
    first = city.next_child_index
    Jurisdiction.objects.filter(pk=city.pk).update(next_child_index=first + len(plans))
    paths: dict[int, tuple[str, int]] = {}
    for i, plan in enumerate(plans):
        paths[id(plan)] = (city.path + path_segment(first + i), city.depth + 1)
    level: list[NodePlan] = list(plans)
    parents: dict[int, Jurisdiction] = {id(p): city for p in plans}
    total = 0
    while level:
        objs = []
        for plan in level:
            path, depth = paths[id(plan)]
            objs.append(
                Jurisdiction(
                    parent=parents[id(plan)],
                    level=plan.level,
                    name_zh=plan.name_zh,
                    name_en=plan.name_en,
                    code=plan.code,
                    boundary=polygon(plan.box),
                    path=path,
                    depth=depth,
                    next_child_index=len(plan.children),
                    resident_count=0,
                )
            )
        Jurisdiction.objects.bulk_create(objs, batch_size=500)
        total += len(objs)
        below: list[NodePlan] = []
        for plan, obj in zip(level, objs, strict=True):
            plan.obj = obj
            for j, child in enumerate(plan.children):
                paths[id(child)] = (obj.path + path_segment(j), obj.depth + 1)
                parents[id(child)] = obj
                below.append(child)
        level = below
    return total


def _drop_random_order_indexes() -> list[str]:
    """Drop the person indexes whose keys arrive in random order (hashes, names) and
    return the statements that recreate them.

    Inside the load's transaction: building them once at the end (a sort) is much
    cheaper than a million random B-tree inserts, and a failure rolls the drop back.
    """
    table = Person._meta.db_table
    columns = {"doc_hash", "phone_hash", "name"}
    with connection.cursor() as cur:
        constraints = connection.introspection.get_constraints(cur, table)
        names = [
            n
            for n, c in constraints.items()
            if c.get("index") and not c.get("primary_key") and set(c["columns"]) & columns
        ]
        if not names:
            return []
        if connection.vendor == "sqlite":
            cur.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s",
                [table],
            )
        elif connection.vendor == "postgresql":
            cur.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
                [table],
            )
        else:
            return []
        ddl = {n: sql for n, sql in cur.fetchall() if n in names and sql}
        for name in ddl:
            cur.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    return list(ddl.values())


def _insert_people(
    plans: list[NodePlan],
    seed: int,
    say: Progress,
    started: float,
) -> tuple[int, int]:
    rng = random.Random(f"{seed}:people")
    kg_ids = dict(KeyGroup.objects.values_list("code", "id"))
    gen = _People(rng, kg_ids)
    created = connection.ops.adapt_datetimefield_value(timezone.now())
    adapt_date = connection.ops.adapt_datefield_value
    person_sql = _insert_sql(Person._meta.db_table, _PERSON_COLUMNS)
    household_sql = _insert_sql(Household._meta.db_table, _HOUSEHOLD_COLUMNS)
    through = Person.key_groups.through
    m2m = Person._meta.get_field("key_groups")
    through_sql = _insert_sql(
        through._meta.db_table,
        [m2m.m2m_column_name(), m2m.m2m_reverse_name()],
    )
    next_pid = _next_id(Person)
    next_hid = _next_id(Household)
    total = sum(b.capacity for p in plans for b in walk(p) if b.level == "building")

    rows: list[PlainRow] = []
    households: list[tuple[Any, ...]] = []
    links: list[tuple[int, int]] = []
    done = {"people": 0, "households": 0}

    clock = {"insert": 0.0, "seal": 0.0}

    def write(sealed: list[tuple[Any, ...]], chunk_links: list[tuple[int, int]]) -> None:
        t0 = time.perf_counter()
        with connection.cursor() as cur:
            cur.executemany(person_sql, sealed)
            if chunk_links:
                cur.executemany(through_sql, chunk_links)
        done["people"] += len(sealed)
        clock["insert"] += time.perf_counter() - t0
        elapsed = time.perf_counter() - started
        say(
            f"people: {done['people']:,} / {total:,} "
            f"({done['people'] / elapsed if elapsed else 0:,.0f}/s)"
        )

    def flush() -> None:
        nonlocal rows, households, links
        if households:
            with connection.cursor() as cur:
                cur.executemany(household_sql, households)
            done["households"] += len(households)
        if rows:
            t0 = time.perf_counter()
            sealed = seal(rows, created)
            clock["seal"] += time.perf_counter() - t0
            write(sealed, links)
        rows, households, links = [], [], []

    for district in plans:
        ids = _IdMaker(str(district.code), adapt_date)
        used: set[int] = set()
        for node in walk(district):
            if node.level != "building":
                continue
            assert node.obj is not None
            building_id, path = node.obj.pk, node.obj.path
            left = node.capacity
            k = 0
            while left > 0:
                size = min(gen.household_size(), left)
                left -= size
                k += 1
                unit = f"{(k - 1) // 12 + 1}单元{((k - 1) % 12) // 2 + 1}0{(k - 1) % 2 + 1}"
                hid = next_hid
                next_hid += 1
                households.append((hid, created, created, building_id, unit, ""))
                foreign = rng.random() < 0.003
                for age, sex, surname in gen.members(size):
                    birth = gen.birth(age)
                    if foreign:
                        first, last = gen.pick(data.FOREIGN_NAMES)
                        doc_type, doc, name, lang = (
                            "passport",
                            gen.passport(),
                            f"{first} {last}",
                            "en",
                        )
                    else:
                        seq = 0
                        for _try in range(1000):
                            seq = gen.below(500) * 2 + (1 if sex == "M" else 0)
                            key = birth * 1000 + seq
                            if key not in used:
                                used.add(key)
                                break
                            birth = gen.birth(age)  # this day is crowded: take another
                        doc_type, doc = "prc_id", ids.make(birth, seq)
                        name = gen.surnames[surname][0] + gen.given_name(sex, ids.year(birth))
                        lang = "en" if 18 <= age <= 45 and rng.random() < 0.004 else "zh-hans"
                    pid = next_pid
                    next_pid += 1
                    rows.append(
                        (
                            pid,
                            doc_type,
                            doc,
                            name,
                            sex,
                            ids.adapted(birth),
                            gen.phone(age),
                            building_id,
                            path,
                            unit,
                            hid,
                            gen.limited_mobility(age),
                            lang,
                        )
                    )
                    for kg in gen.key_groups(age):
                        links.append((pid, kg))
            if len(rows) >= CHUNK:
                flush()
    flush()
    say(
        "people written ({total:.1f} s): inserting {insert:.1f} s, encrypting {seal:.1f} s".format(
            total=time.perf_counter() - started, **clock
        )
    )
    return done["households"], done["people"]


# --- Venues ----------------------------------------------------------------

_SHOP_GOODS = [
    ("便利店", "Convenience Store"), ("五金店", "Hardware Store"), ("水果店", "Fruit Shop"),
    ("理发店", "Hair Salon"), ("服装店", "Clothing Store"), ("烟酒店", "Tobacco and Liquor"),
    ("手机店", "Phone Shop"), ("花店", "Flower Shop"), ("蛋糕店", "Bakery"),
    ("干洗店", "Dry Cleaner"),
]  # fmt: skip
_FOODS = [
    ("刀削面馆", "Knife-cut Noodles"), ("羊杂割", "Mutton Offal Soup"), ("饺子馆", "Dumplings"),
    ("火锅店", "Hotpot"), ("烧烤店", "Barbecue"), ("包子铺", "Steamed Buns"),
    ("面食馆", "Noodle House"), ("快餐店", "Fast Food"), ("头脑店", "Tounao Breakfast"),
    ("过油肉馆", "Guoyourou Restaurant"),
]  # fmt: skip
_SUPERMARKETS = [
    ("美特好", "Meiteho"), ("华润万家", "CR Vanguard"), ("沃尔玛", "Walmart"), ("吉祥", "Jixiang"),
]  # fmt: skip
_PHARMACIES = [
    ("老百姓大药房", "Laobaixing Pharmacy"), ("一心堂", "Yixintang Pharmacy"),
    ("大参林", "Dashenlin Pharmacy"),
]  # fmt: skip
_FUN = [("KTV", "KTV"), ("网咖", "Internet Café"), ("影城", "Cinema"), ("棋牌室", "Mahjong Room")]
# (category, weight, capacity range) of the everyday venues scattered over grids.
_EVERYDAY = [
    ("shop", 40, (10, 60)), ("restaurant", 30, (30, 200)), ("office", 10, (50, 800)),
    ("supermarket", 4, (100, 600)), ("pharmacy", 4, (5, 30)), ("hotel", 4, (40, 400)),
    ("entertainment", 4, (30, 300)), ("market", 2, (200, 1500)), ("gym", 2, (30, 200)),
]  # fmt: skip


def _venue_name(rng: random.Random, category: str, place: tuple[str, str]) -> tuple[str, str]:
    pz, pe = place
    if category == "shop":
        (sz, se), (gz, ge) = rng.choice(data.SURNAMES)[:2], rng.choice(_SHOP_GOODS)
        return f"{sz}记{gz}", f"{se}'s {ge}"
    if category == "restaurant":
        fz, fe = rng.choice(_FOODS)
        return f"{pz}{fz}", f"{pe} {fe}"
    if category == "supermarket":
        cz, ce = rng.choice(_SUPERMARKETS)
        return f"{cz}超市（{pz}店）", f"{ce} Supermarket ({pe})"
    if category == "pharmacy":
        cz, ce = rng.choice(_PHARMACIES)
        return f"{cz}（{pz}店）", f"{ce} ({pe})"
    if category == "office":
        if rng.random() < 0.5:
            return f"{pz}大厦", f"{pe} Tower"
        return f"{pz}科技有限公司", f"{pe} Technology Co., Ltd."
    if category == "hotel":
        return f"{pz}宾馆", f"{pe} Hotel"
    if category == "entertainment":
        xz, xe = rng.choice(_FUN)
        return f"{pz}{xz}", f"{pe} {xe}"
    if category == "market":
        return f"{pz}农贸市场", f"{pe} Farmers' Market"
    return f"{pz}健身房", f"{pe} Gym"


# Loaders of the city's parts that belong to domain apps, registered by the app
# in its ``AppConfig.ready`` (core knows no domain app): "venues" takes rows of
# venue fields (``building`` a Jurisdiction) and returns how many it stored.
_LOADERS: dict[str, Callable[[list[dict[str, Any]]], int]] = {}


def register_loader(part: str, loader: Callable[[list[dict[str, Any]]], int]) -> None:
    """An app loads its part of the synthetic city (``"venues"``: investigation)."""
    _LOADERS[part] = loader


def _insert_venues(plans: list[NodePlan], seed: int) -> int:
    # Venues belong to the investigation app: hand it plain rows to load.
    loader = _LOADERS.get("venues")
    if loader is None:
        return 0  # no app keeps venues in this project

    rng = random.Random(f"{seed}:venues")
    cum = list(_cumsum([w for _c, w, _r in _EVERYDAY]))
    venues: list[dict[str, Any]] = []

    def add(building: NodePlan, category: str, names: tuple[str, str], capacity: int) -> None:
        assert building.obj is not None
        chain = []
        node: NodePlan | None = building
        while node is not None:
            if node.level != "grid":  # grids are an administrative unit, not an address
                chain.append(node.name_zh)
            node = node.parent
        address = data.CITY[1] + "".join(reversed(chain))
        venues.append(
            {
                "name": names[0],
                "name_en": names[1],
                "category": category,
                "address": address,
                "building": building.obj,
                "capacity": capacity,
            }
        )

    for district in plans:
        buildings = [b for b in walk(district) if b.level == "building"]
        for code, category, zh, en, capacity in data.LANDMARKS:
            if code == district.code:
                add(rng.choice(buildings), category, (zh, en), capacity)
        add(
            rng.choice(buildings),
            "hospital",
            (f"{district.name_zh}人民医院", f"{district.name_en} People's Hospital"),
            rng.randint(800, 2500),
        )
        for sub in district.children:
            sub_buildings = [b for b in walk(sub) if b.level == "building"]
            short = sub.name_zh.removesuffix("街道")
            add(
                rng.choice(sub_buildings),
                "school",
                (f"{short}中学", f"{sub.name_en.split(' ')[0]} Middle School"),
                rng.randint(800, 3000),
            )
            for com in sub.children:
                com_buildings = [b for b in walk(com) if b.level == "building"]
                place = (
                    com.name_zh.removesuffix("社区").removesuffix("村"),
                    com.name_en.rsplit(" ", 1)[0],
                )
                for category, zh, en, lo, hi in (
                    ("school", "小学", "Primary School", 400, 2000),
                    ("kindergarten", "幼儿园", "Kindergarten", 90, 400),
                ):
                    names = (f"{place[0]}{zh}", f"{place[1]} {en}")
                    add(rng.choice(com_buildings), category, names, rng.randint(lo, hi))
                clinic = (f"{com.name_zh}卫生服务站", f"{com.name_en} Health Station")
                add(rng.choice(com_buildings), "clinic", clinic, rng.randint(10, 60))
                for grid in com.children:
                    people = sum(b.capacity for b in grid.children)
                    expected = people * VENUES_PER_THOUSAND / 1000
                    n = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
                    for _i in range(n):
                        u = rng.random() * cum[-1]
                        category, _w, (lo, hi) = _EVERYDAY[bisect.bisect_left(cum, u)]
                        add(
                            rng.choice(grid.children),
                            category,
                            _venue_name(rng, category, place),
                            rng.randint(lo, hi),
                        )
    return loader(venues)


def demo_staff(username: str, node: Jurisdiction, *roles: str) -> Any:
    """A staff account that acts in the demo data (no password: it never signs in),
    created once with these roles at ``node``."""
    from django.contrib.auth import get_user_model

    from fangkong.core.models import Role, StaffProfile

    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    if user is None:
        user = user_model.objects.create_user(username=username)
        user.set_unusable_password()
        user.save()
        profile = StaffProfile.objects.create(
            user=user, jurisdiction=node, display_name=f"{username} (demo)"
        )
        profile.roles.set(Role.objects.filter(code__in=roles))
    return user
