"""Read-path benchmark: Contact 360, a filtered contact list and search, against raw SQL.

    .venv/bin/python bench/bench_read.py                                   # 1M contacts, 10M interactions
    .venv/bin/python bench/bench_read.py --contacts 20000 --interactions 200000   # a quick try

Needs PostgreSQL. The database is ``DATABASE_URL``'s (default rapport_bench) with ``_demo``
appended, or ``RAPPORT_BENCH_READ_URL``; it is created, migrated and loaded with ``rapport demo``
once (later runs reuse it; see ``common.demo_database``). A separate database because other
benchmarks truncate the party tables of theirs.

Endpoints are driven in-process with ``django.test.Client`` (session of a demo user), so the
figure is Django + database without the network. Each baseline is the equivalent SQL sent through
a plain psycopg connection in the same run. Prints p50/p95 in ms, the ratio of the p95s and the
target; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

import common

TARGETS_MS = {"contact 360": 50.0, "list as rep": 100.0, "list as manager": 100.0, "search (one typo)": 50.0}
LIST_COLUMNS = (
    "c.id, c.first_name, c.last_name, c.title, c.email, c.phone, c.lifecycle_stage, c.owner_id, c.team_id, "
    "c.account_id, c.updated_at, c.version, a.name, u.username"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=10_000_000)
    parser.add_argument("--accounts", type=int, default=None, help="default: contacts / 5")
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    accounts = args.accounts if args.accounts is not None else max(1, args.contacts // 5)
    url = os.environ.get("RAPPORT_BENCH_READ_URL") or common.database_url("_demo")
    loaded = common.demo_database(url=url, accounts=accounts, contacts=args.contacts, interactions=args.interactions)
    print(
        f"Database {url.rsplit('/', 1)[-1]}: {accounts:,} accounts, {args.contacts:,} contacts, "
        f"{args.interactions:,} interactions" + (f" (loaded in {loaded:.0f} s)" if loaded else " (already loaded)")
    )
    run(url, args.runs)


def run(url: str, runs: int) -> None:
    import psycopg
    from django.test import Client

    from rapport.core.models import Team, User
    from rapport.parties.search import similarity_threshold

    raw = psycopg.connect(url, autocommit=True)
    users = {u.username: u for u in User.objects.filter(username__in=["admin", "manager", "rep"])}
    teams = {t.name: t.pk for t in Team.objects.all()}
    rep, manager = users["rep"], users["manager"]
    managed = list(Team.objects.filter(manager=manager).values_list("pk", flat=True))

    contact_id, count = _hub_contact(raw)
    first, last, owner_id = raw.execute(
        "SELECT first_name, last_name, owner_id FROM parties_contact WHERE id = %s", [contact_id]
    ).fetchone()
    viewer = User.objects.get(pk=owner_id) if owner_id else users["admin"]
    query = f"{first} {_typo(last)}"
    print(f"Contact 360 of #{contact_id} ({count:,} interactions) as {viewer.username}; search for {query!r} as rep")

    results: list[list[Any]] = []

    def row(name: str, fn: Callable[[], Any], baseline: Callable[[], Any]) -> None:
        status = fn()
        if status != 200:
            results.append([name, f"HTTP {status}", "", "", "", "", TARGETS_MS[name], "endpoint missing"])
            return
        figure = common.measure(fn, runs)
        base = common.measure(baseline, runs)
        ratio = figure.p95 / base.p95 if base.p95 else float("inf")
        verdict = "ok" if figure.p95 <= TARGETS_MS[name] else "OVER TARGET"
        results.append([name, figure.p50, figure.p95, base.p50, base.p95, ratio, TARGETS_MS[name], verdict])

    row(
        "contact 360",
        _get(Client(), viewer, f"/api/v1/contacts/{contact_id}/360"),
        lambda: _baseline_360(raw, contact_id),
    )
    list_url = "/api/v1/contacts?lifecycle_stage=customer&ordering=name&limit=50"
    row(
        "list as rep",
        _get(Client(), rep, list_url),
        lambda: raw.execute(
            f"SELECT {LIST_COLUMNS} FROM parties_contact c LEFT JOIN parties_account a ON a.id = c.account_id "
            "LEFT JOIN core_user u ON u.id = c.owner_id WHERE c.lifecycle_stage = 'customer' "
            "AND (c.owner_id = %s OR c.team_id = %s) ORDER BY c.last_name, c.first_name, c.id LIMIT 51",
            [rep.pk, rep.team_id],
        ).fetchall(),
    )
    row(
        "list as manager",
        _get(Client(), manager, list_url),
        lambda: raw.execute(
            f"SELECT {LIST_COLUMNS} FROM parties_contact c LEFT JOIN parties_account a ON a.id = c.account_id "
            "LEFT JOIN core_user u ON u.id = c.owner_id WHERE c.lifecycle_stage = 'customer' "
            "AND (c.owner_id = %s OR c.team_id = ANY(%s) OR c.team_id = %s) "
            "ORDER BY c.last_name, c.first_name, c.id LIMIT 51",
            [manager.pk, managed, manager.team_id],
        ).fetchall(),
    )
    # The app sets the similarity threshold once per session and value; so does the baseline.
    raw.execute(
        "SELECT set_config('pg_trgm.word_similarity_threshold', %s, false)",
        [f"{similarity_threshold(query.lower()):.2f}"],
    )
    row(
        "search (one typo)",
        _get(Client(), rep, f"/api/v1/search?q={query.replace(' ', '+')}"),
        lambda: _baseline_search(raw, query, rep.pk, rep.team_id),
    )
    common.print_table(
        ["figure", "p50 ms", "p95 ms", "baseline p50", "baseline p95", "ratio p95", "target p95", ""], results
    )
    print(f"({runs} runs each after 5 warm-up runs; teams: {', '.join(sorted(teams))})")


def _get(client: Any, user: Any, url: str) -> Callable[[], int]:
    client.force_login(user)

    def call() -> int:
        return client.get(url).status_code

    return call


def _hub_contact(raw: Any) -> tuple[int, int]:
    """A contact with about a thousand interactions (the demo makes a few), else the busiest one."""
    found = raw.execute(
        "SELECT contact_id, count(*) FROM activities_interaction WHERE contact_id IS NOT NULL "
        "GROUP BY contact_id HAVING count(*) >= 900 ORDER BY abs(count(*) - 1000), contact_id LIMIT 1"
    ).fetchone()
    if found is None:
        found = raw.execute(
            "SELECT contact_id, count(*) FROM activities_interaction WHERE contact_id IS NOT NULL "
            "GROUP BY contact_id ORDER BY 2 DESC, 1 LIMIT 1"
        ).fetchone()
    return int(found[0]), int(found[1])


def _typo(word: str) -> str:
    """One transposition in the middle of the word: "Garcia" -> "Gacria"."""
    if len(word) < 4:
        return word + word[-1]
    i = len(word) // 2 - 1
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def _baseline_360(raw: Any, contact_id: int) -> None:
    """What any Contact 360 must read: the person, their details, recent timeline and its summary."""
    raw.execute(
        "SELECT c.*, a.name, a.domain FROM parties_contact c LEFT JOIN parties_account a ON a.id = c.account_id "
        "WHERE c.id = %s",
        [contact_id],
    ).fetchall()
    raw.execute(
        "SELECT id, email, kind, is_primary FROM parties_contactemail WHERE contact_id = %s "
        "ORDER BY is_primary DESC, id",
        [contact_id],
    ).fetchall()
    raw.execute(
        "SELECT id, number, kind, is_primary FROM parties_contactphone WHERE contact_id = %s "
        "ORDER BY is_primary DESC, id",
        [contact_id],
    ).fetchall()
    raw.execute(
        "SELECT m.account_id, m.role, m.is_primary, a.name FROM parties_accountmembership m "
        "JOIN parties_account a ON a.id = m.account_id WHERE m.contact_id = %s",
        [contact_id],
    ).fetchall()
    raw.execute(
        "SELECT id, channel, direction, subject, occurred_at, duration_seconds, outcome, owner_id "
        "FROM activities_interaction WHERE contact_id = %s ORDER BY occurred_at DESC, id DESC LIMIT 50",
        [contact_id],
    ).fetchall()
    raw.execute(
        "SELECT channel, count(*), max(occurred_at) FROM activities_interaction WHERE contact_id = %s GROUP BY channel",
        [contact_id],
    ).fetchall()
    raw.execute(
        "SELECT id, title, due_at, assignee_id FROM activities_task WHERE contact_id = %s "
        "AND done_at IS NULL ORDER BY due_at LIMIT 20",
        [contact_id],
    ).fetchall()
    raw.execute(
        "SELECT id, body, created_at FROM activities_note WHERE contact_id = %s "
        "ORDER BY created_at DESC, id DESC LIMIT 20",
        [contact_id],
    ).fetchall()


def _baseline_search(raw: Any, query: str, owner_id: int, team_id: int | None) -> None:
    """The searches ``parties.search`` runs, contacts then accounts, with the rep's row filter.

    Contacts: the dictionary words within one edit of each query word (migration 0004), then
    names holding one of them for every word (the name-words GIN index), or a substring or word
    prefixes of ``search_text``. Accounts: word similarity of ``search_text`` (trigram index).
    Both ranked by similarity to ``search_text``.
    """
    from rapport.parties.search import deletions, within_one_edit

    text = query.lower()
    words = text.split()
    tsquery = " & ".join(f"{word}:*" for word in words)
    variants = sorted(set().union(*(deletions(word) for word in words)))
    known = raw.execute("SELECT variant, word FROM parties_nameword WHERE variant = ANY(%s)", [variants]).fetchall()
    near = [sorted({w for v, w in known if v in deletions(word) and within_one_edit(word, w)}) for word in words]
    names = " AND ".join(["parties_name_words(first_name, last_name) && %s::text[]"] * len(near))
    raw.execute(
        "SELECT id FROM parties_contact WHERE (owner_id = %s OR team_id = %s) "
        f"AND (({names}) OR search_text ILIKE %s "
        "OR to_tsvector('simple'::regconfig, search_text) @@ to_tsquery('simple', %s)) "
        "ORDER BY word_similarity(%s, search_text) DESC, id LIMIT 10",
        [owner_id, team_id, *near, f"%{text}%", tsquery, text],
    ).fetchall()
    raw.execute(
        "SELECT id FROM parties_account WHERE (owner_id = %s OR team_id = %s) "
        "AND (%s <%% search_text OR search_text ILIKE %s "
        "OR to_tsvector('simple'::regconfig, search_text) @@ to_tsquery('simple', %s)) "
        "ORDER BY word_similarity(%s, search_text) DESC, id LIMIT 10",
        [owner_id, team_id, text, f"%{text}%", tsquery, text],
    ).fetchall()


if __name__ == "__main__":
    main()
