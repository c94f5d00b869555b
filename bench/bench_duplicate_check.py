"""Create-time duplicate check at a million contacts: "possible duplicate of …" against an exact-email lookup.

    .venv/bin/python bench/bench_duplicate_check.py                          # 1M contacts (the read bench's data)
    .venv/bin/python bench/bench_duplicate_check.py --contacts 20000 --interactions 200000   # a quick try

Needs PostgreSQL; uses the same demo database as ``bench_read.py`` (loaded once, see
``common.demo_database``). Probes are made from contacts drawn at random, one kind of damage
each, in rotation (every probe is run once untimed first, to warm the caches):

* ``typo + email``: one transposition in the last name, the same email in upper case (sources
  with an email);
* ``swapped + phone``: first and last name swapped, the phone written in international format
  (sources with a phone);
* ``nickname + address``: the given name replaced by a nickname (or its initial), same birthday
  and address (a source with at least one of them), no email or phone;
* ``someone new``: the first name of one contact and the last name of another, a fresh email:
  nobody, so any likely match is a false alarm.

Each probe is checked three ways: the service (``duplicate_check``), the API endpoint
(``POST /api/v1/contacts/duplicate-check`` through ``django.test.Client``, session of the admin
user), and the baseline — what an exact-email duplicate rule costs: one indexed
``SELECT … WHERE email = %s`` on a plain psycopg connection. Prints p50/p95 in ms, the ratio of
the p95s, the target (50 ms p95), and how often the source contact was found (and flagged
likely) per kind; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from collections import defaultdict
from typing import Any

import common

TARGET_MS = 50.0
KINDS = ("typo + email", "swapped + phone", "nickname + address", "someone new")
REQUIRES = {
    "typo + email": lambda s: bool(s["email"]),
    "swapped + phone": lambda s: bool(s["phone"]),
    "nickname + address": lambda s: bool(s["birthday"] or s["street"]),
    "someone new": lambda s: True,
}


def _typo(word: str) -> str:
    if len(word) < 4:
        return word + word[-1:]
    i = len(word) // 2 - 1
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def _sample(raw: Any, n: int, rng: random.Random) -> list[dict[str, Any]]:
    low, high = raw.execute("SELECT min(id), max(id) FROM parties_contact").fetchone()
    ids = rng.sample(range(low, high + 1), min(n * 2, high - low + 1))
    rows = raw.execute(
        "SELECT c.id, c.first_name, c.last_name, c.email, c.phone, c.birthday, a.street, a.city, a.postal_code "
        "FROM parties_contact c LEFT JOIN LATERAL (SELECT street, city, postal_code FROM parties_address "
        "WHERE contact_id = c.id ORDER BY id LIMIT 1) a ON true WHERE c.id = ANY(%s) AND c.first_name <> '' "
        "AND c.last_name <> ''",
        [ids],
    ).fetchall()
    keys = ("id", "first_name", "last_name", "email", "phone", "birthday", "street", "city", "postal_code")
    return [dict(zip(keys, row, strict=True)) for row in rows][:n]


def _probe(kind: str, source: dict[str, Any], other: dict[str, Any], i: int) -> dict[str, Any]:
    import phonenumbers

    from rapport.analytics.resolve.nicknames import CANONICAL, NICKNAMES

    address = (
        [{"street": source["street"] or "", "city": source["city"] or "", "postal_code": source["postal_code"] or ""}]
        if source["street"]
        else []
    )
    if kind == "typo + email":
        return {
            "first_name": source["first_name"],
            "last_name": _typo(source["last_name"]),
            "emails": [source["email"].upper()] if source["email"] else [],
        }
    if kind == "swapped + phone":
        phone = source["phone"]
        if phone:
            phone = phonenumbers.format_number(
                phonenumbers.parse(phone, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL
            )
        return {
            "first_name": source["last_name"],
            "last_name": source["first_name"],
            "phones": [phone] if phone else [],
            "addresses": address,
        }
    if kind == "nickname + address":
        given = source["first_name"]
        canonical = CANONICAL.get(given.lower())
        shorts = NICKNAMES.get(canonical or "", ())
        nick = shorts[0].title() if shorts else f"{given[0]}."
        return {
            "first_name": nick,
            "last_name": source["last_name"],
            "birthday": source["birthday"],
            "addresses": address,
        }
    return {
        "first_name": source["first_name"],
        "last_name": other["last_name"],
        "emails": [f"someone.new.{i}@fresh.example"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=10_000_000)
    parser.add_argument("--accounts", type=int, default=None, help="default: contacts / 5")
    parser.add_argument("--probes", type=int, default=400, help="probes per run (a quarter of each kind)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    accounts = args.accounts if args.accounts is not None else max(1, args.contacts // 5)
    url = os.environ.get("RAPPORT_BENCH_READ_URL") or common.database_url("_demo")
    loaded = common.demo_database(url=url, accounts=accounts, contacts=args.contacts, interactions=args.interactions)
    print(
        f"Database {url.rsplit('/', 1)[-1]}: {args.contacts:,} contacts"
        + (f" (loaded in {loaded:.0f} s)" if loaded else " (already loaded)")
    )
    run(url, args.probes, args.seed)


def run(url: str, probes: int, seed: int) -> None:
    import psycopg
    from django.test import Client

    from rapport.core.models import User
    from rapport.parties.duplicate_check import duplicate_check
    from rapport.parties.fitted import current_matcher

    rng = random.Random(seed)
    raw = psycopg.connect(url, autocommit=True)
    admin = User.objects.get(username="admin")
    sources = _sample(raw, probes * 3, rng)
    per_kind = max(1, probes // len(KINDS))
    cases = []
    for kind in KINDS:
        # Each kind of damage keeps the evidence it names: a source without a phone cannot make a
        # "swapped + phone" probe (it would be a bare name, which is rightly no duplicate).
        fit = [s for s in sources if REQUIRES[kind](s)][: per_kind + 1]
        cases.extend((kind, src, _probe(kind, src, fit[(i + 1) % len(fit)], i)) for i, src in enumerate(fit[:per_kind]))
    rng.shuffle(cases)
    matcher = current_matcher()[1]
    print(f"{len(cases)} probes, matcher: {matcher}; load average {os.getloadavg()[0]:.2f}")

    client = Client()
    client.force_login(admin)
    # Warm-up: every probe once (the index pages it reads into PostgreSQL's cache, as in a server
    # that has been up a while), connections and prepared statements; the timed pass follows.
    for _kind, _src, data in cases:
        duplicate_check(actor=admin, data=data)
    for _kind, _src, data in cases[:20]:
        client.post(
            "/api/v1/contacts/duplicate-check", data=json.dumps(data, default=str), content_type="application/json"
        )
        raw.execute("SELECT contact_id FROM parties_contactemail WHERE email = %s", ["warm@up.example"]).fetchall()

    service_ms, api_ms, base_ms = [], [], []
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # probes, found, flagged likely
    for kind, source, data in cases:
        started = time.perf_counter()
        check = duplicate_check(actor=admin, data=data)
        service_ms.append((time.perf_counter() - started) * 1000.0)
        body = json.dumps(data, default=str)
        started = time.perf_counter()
        response = client.post("/api/v1/contacts/duplicate-check", data=body, content_type="application/json")
        api_ms.append((time.perf_counter() - started) * 1000.0)
        assert response.status_code == 200, response.content
        email = (data.get("emails") or [source["email"] or ""])[0].lower()
        started = time.perf_counter()
        raw.execute("SELECT contact_id FROM parties_contactemail WHERE email = %s", [email]).fetchall()
        base_ms.append((time.perf_counter() - started) * 1000.0)
        tally = found[kind]
        tally[0] += 1
        hit = next((m for m in check.matches if m.contact_id == source["id"]), None)
        if kind == "someone new":
            likely = [m for m in check.matches if m.likely]
            tally[1] += bool(check.matches)
            tally[2] += bool(likely)
        else:
            tally[1] += hit is not None
            tally[2] += hit is not None and hit.likely

    base = common.Timing(p50=_pct(base_ms, 50), p95=_pct(base_ms, 95), mean=0.0, runs=len(base_ms))
    rows = []
    for name, samples in (("duplicate_check()", service_ms), ("POST /contacts/duplicate-check", api_ms)):
        p50, p95 = _pct(samples, 50), _pct(samples, 95)
        rows.append(
            [
                name,
                p50,
                p95,
                base.p50,
                base.p95,
                p95 / base.p95 if base.p95 else float("inf"),
                TARGET_MS,
                "ok" if p95 <= TARGET_MS else "OVER TARGET",
            ]
        )
    common.print_table(
        ["figure", "p50 ms", "p95 ms", "exact-email p50", "exact-email p95", "ratio p95", "target p95", ""], rows
    )
    print()
    common.print_table(
        ["probe kind", "probes", "source listed", "source flagged likely"],
        [
            [kind, t[0], f"{t[1] / t[0]:.1%}", f"{t[2] / t[0]:.1%}"]
            for kind, t in found.items()
            if kind != "someone new"
        ],
    )
    new = found["someone new"]
    if new[0]:
        print(
            f"someone new: {new[0]} probes, {new[1] / new[0]:.1%} listed somebody, "
            f"{new[2] / new[0]:.1%} flagged a likely duplicate (false alarms)"
        )


def _pct(samples: list[float], q: int) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


if __name__ == "__main__":
    main()
