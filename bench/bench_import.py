"""Import benchmark: a contact CSV through ``rapport_import`` vs a raw COPY of the same rows.

    .venv/bin/python bench/bench_import.py --rows 100000

Needs PostgreSQL (``DATABASE_URL``, default postgres://postgres@127.0.0.1:5432/rapport_bench;
the database is created and migrated here). Prints, does not assert:

* baseline: the rows, normalised beforehand (outside the timer), COPYed into the same tables
  (accounts, contacts, contact emails and phones, memberships);
* import: ``manage.py rapport_import contacts FILE`` in a subprocess (validation, email and
  phone normalisation, dedupe by email, account find-or-create, audit events), its rows/s and
  peak RSS (the child's ``VmHWM``, sampled while it runs);
* the ratio import/baseline;
* **duplicates into an existing database** (unless ``--no-duplicates``): the database is loaded
  with the file's rows (COPY, as the baseline), then a second file of ``--new-rows`` rows (default
  a fifth of ``--rows``: 10% corrupted copies of existing contacts — a typo in the email, the
  phone written differently —, 5% copies of an earlier row of the same file, the rest new people)
  is imported three times from that same state, with ``--duplicates off``, ``review`` and
  ``auto_merge``. Printed: each run's time and counts, the matching stage's own seconds (the job's
  ``matching_seconds``: candidate queries, DuckDB blocking and scoring, queueing and merging) and
  both as a ratio to the ``off`` run.

    .venv/bin/python bench/bench_import.py --rows 20000            # small: about a minute
    .venv/bin/python bench/bench_import.py --rows 1000000 --new-rows 100000
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "bench")]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/rapport_bench"
TABLES = (
    "core_auditevent",
    "parties_accountmembership",
    "parties_contactemail",
    "parties_contactphone",
    "parties_contact_tags",
    "parties_contact",
    "parties_account",
    "parties_importjob",
    "parties_duplicatepair",
    "parties_contactmerge",
)


def ensure_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin_url = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"], check=True, env=env)


def truncate() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")


def bench_user() -> str:
    from rapport.core.choices import Role
    from rapport.core.models import User
    from rapport.core.services import user_create

    if not User.objects.filter(username="bench").exists():
        user_create(username="bench", password="bench-password-123", roles=[Role.ADMINISTRATOR])  # noqa: S106
    return "bench"


def baseline(path: Path) -> tuple[int, float]:
    """COPY pre-normalised rows; returns (contacts written, seconds of the COPYs)."""
    import csv

    from django.db import connection, transaction
    from django.utils import timezone

    from rapport.core.models import User
    from rapport.parties.imports.rows import PhoneNormalizer
    from rapport.parties.normalize import email_normalize

    user = User.objects.get(username="bench")
    phone = PhoneNormalizer("US")
    now = timezone.now()
    companies: dict[str, int] = {}
    contacts, emails, phones, members, seen = [], [], [], [], set()
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        for first, last, email, raw_phone, company, title in reader:
            email = email_normalize(email)
            if email in seen:
                continue
            seen.add(email)
            number = phone(raw_phone)
            account_id = companies.setdefault(company.lower(), len(companies) + 1)
            cid = len(contacts) + 1
            search = " ".join([first, last, email, number.lstrip("+"), company]).lower()
            contacts.append(
                (
                    cid,
                    first,
                    last,
                    title,
                    email,
                    number,
                    account_id,
                    "prospect",
                    "{}",
                    search,
                    user.pk,
                    None,
                    user.pk,
                    now,
                    now,
                    1,
                )
            )
            emails.append((cid, email, "work", True))
            phones.append((cid, number, "mobile", True))
            members.append((cid, account_id, "", True, now))
    accounts = [(i, name, "USD", "{}", name, user.pk, user.pk, now, now, 1) for name, i in companies.items()]
    copies = [
        (
            "parties_account",
            "id, name, currency, custom, search_text, owner_id, created_by_id, created_at, "
            "updated_at, version, domain, website, industry, size, phone, tier, description, external_id",
            accounts,
            ("", "", "", "", "", "", "", ""),
        ),
        (
            "parties_contact",
            "id, first_name, last_name, title, email, phone, account_id, lifecycle_stage, custom, "
            "search_text, owner_id, team_id, created_by_id, created_at, updated_at, version, language, time_zone, "
            "preferred_channel, source, external_id",
            contacts,
            ("", "", "", "", ""),
        ),
        ("parties_contactemail", "contact_id, email, kind, is_primary", emails, ()),
        ("parties_contactphone", "contact_id, number, kind, is_primary", phones, ()),
        ("parties_accountmembership", "contact_id, account_id, role, is_primary, created_at", members, ()),
    ]
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for table, columns, data, fill in copies:
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row + fill)
        for table in ("parties_account", "parties_contact"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    return len(contacts), time.perf_counter() - started


def _vm_hwm_kb(pid: int) -> int:
    """The process's own peak RSS (``VmHWM``), which exec resets; 0 once it has gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_import(path: Path, url: str, *extra: str) -> tuple[float, int, str]:
    """Run the import as a user would, in its own process, and watch its peak memory.

    ``getrusage(RUSAGE_CHILDREN)`` would be wrong here: Linux carries a forked child's pre-exec
    high-water mark (this process, holding the baseline's rows) into ``ru_maxrss``. ``VmHWM`` in
    /proc belongs to the new program only, so it is sampled while the import runs.
    """
    env = {**os.environ, "DATABASE_URL": url}
    command = [
        sys.executable,
        str(ROOT / "manage.py"),
        "rapport_import",
        "contacts",
        str(path),
        "--as",
        "bench",
        "--match-key",
        "email",
        "--mode",
        "upsert",
        *(extra or ("--duplicates", "off")),
    ]
    started = time.perf_counter()
    peak_kb = 0
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        while child.poll() is None:
            peak_kb = max(peak_kb, _vm_hwm_kb(child.pid))
            time.sleep(0.2)
        stdout, stderr = child.communicate()
    elapsed = time.perf_counter() - started
    if child.returncode:
        print(stdout, stderr)
        raise SystemExit("the import failed")
    return elapsed, peak_kb, stdout.strip().splitlines()[-1]


def _typo(text: str, rng: random.Random) -> str:
    """Two neighbouring letters of the local part swapped (one edit, as a hurried typist makes)."""
    local, _at, domain = text.partition("@")
    if len(local) < 3:
        return "x" + text
    i = rng.randrange(len(local) - 1)
    if local[i] == local[i + 1]:
        return local[:i] + "q" + local[i + 1 :] + "@" + domain
    return local[:i] + local[i + 1] + local[i] + local[i + 2 :] + "@" + domain


def _reformat(phone: str) -> str:
    digits = "".join(c for c in phone if c.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        return f"({digits[1:4]}) {digits[4:7]}-{digits[7:]}"
    return phone


def write_new_file(path: Path, existing: Path, existing_rows: int, count: int, *, seed: int) -> Path:
    """The second file: 10% corrupted copies of existing rows, 5% copies of earlier rows, the rest new."""
    from _import_data import DOMAINS, FIRST, LAST, TITLES, _phone

    rng = random.Random(seed)
    copies = sorted(rng.sample(range(existing_rows), min(existing_rows, count // 10)))
    wanted, picked = set(copies), []
    with open(existing, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        for index, row in enumerate(reader):
            if index in wanted:
                picked.append(row)
    rng.shuffle(picked)
    out: list[list[str]] = []
    fresh: list[list[str]] = []
    for i in range(count):
        roll = rng.random()
        if picked and roll < 0.10:
            first, last, email, phone, company, title = picked.pop()
            out.append([first, last, _typo(email, rng), _reformat(phone), company, title])
        elif fresh and roll < 0.15:
            first, last, email, phone, company, title = rng.choice(fresh)
            out.append([first, last, "second." + email, phone, company, title])
        else:
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = f"new.{i}.{last.lower()}@{rng.choice(DOMAINS)}".encode("ascii", "ignore").decode()
            # Phones of n >= 5,000,000 never meet the first file's (unique below 8M, see _phone).
            row = [first, last, email, _phone(rng, 5_000_000 + i), f"{rng.choice(LAST)} Group", rng.choice(TITLES)]
            fresh.append(row)
            out.append(row)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(out)
    return path


def bench_duplicates(existing: Path, existing_rows: int, new_rows: int, url: str, workdir: Path, seed: int) -> None:
    """The same second file into the same existing database, with each duplicates option."""
    from django.db import connection

    from rapport.parties.models import ImportJob

    path = workdir / f"new-{new_rows}-into-{existing_rows}.csv"
    if not path.exists():
        write_new_file(path, existing, existing_rows, new_rows, seed=seed + 1)
    print(f"\nduplicates: {new_rows:,} rows into a database of the {existing_rows:,} rows above")
    results = {}
    for mode in ("off", "review", "auto_merge"):
        truncate()
        written, _copy = baseline(existing)
        connection.close()
        seconds, peak_kb, summary = run_import(path, url, "--duplicates", mode)
        job = ImportJob.objects.order_by("-id").first()
        assert job is not None
        connection.close()
        results[mode] = (seconds, job.matching_seconds)
        print(
            f"  {mode:<10} {seconds:7.2f} s, matching {job.matching_seconds:6.2f} s, peak RSS "
            f"{peak_kb / 1024:.0f} MB, existing {written:,}: {summary}"
        )
    plain = results["off"][0]
    for mode in ("review", "auto_merge"):
        seconds, matching = results[mode]
        print(
            f"  {mode:<10} time/off {seconds / plain:.2f}x; matching stage alone = {matching / plain:.0%} of the "
            f"plain import ({matching / new_rows * 1e6:,.0f} µs per row)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", default=str(ROOT / "var" / "bench"))
    parser.add_argument("--new-rows", type=int, default=0, help="rows of the second file (default rows / 5)")
    parser.add_argument("--no-duplicates", action="store_true", help="skip the duplicates section")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.config.settings")
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)

    from _import_data import write_csv

    path = workdir / f"contacts-{args.rows}.csv"
    if not path.exists():
        print(f"generating {args.rows:,} rows → {path}")
        write_csv(path, args.rows, seed=args.seed)
    print(f"file: {path.stat().st_size / 1e6:.1f} MB, {args.rows:,} rows")
    ensure_database(url)
    import django

    django.setup()
    from django.db import connection

    truncate()
    bench_user()
    written, copy_seconds = baseline(path)
    connection.close()
    print(f"baseline COPY: {written:,} contacts in {copy_seconds:.2f} s = {args.rows / copy_seconds:,.0f} rows/s")
    truncate()
    connection.close()
    seconds, peak_kb, summary = run_import(path, url)
    print(f"import:        {summary}")
    print(
        f"import:        {args.rows:,} rows in {seconds:.2f} s = {args.rows / seconds:,.0f} rows/s "
        f"(process start and Django setup included)"
    )
    print(f"ratio import/COPY throughput: {copy_seconds / seconds:.1%}")
    print(f"import peak RSS: {peak_kb / 1024:.0f} MB")
    if not args.no_duplicates:
        bench_duplicates(path, args.rows, args.new_rows or max(args.rows // 5, 1), url, workdir, args.seed)


if __name__ == "__main__":
    main()
