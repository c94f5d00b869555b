"""Import benchmark: a contact CSV through ``rapport_import`` vs a raw COPY of the same rows.

    .venv/bin/python bench/bench_import.py --rows 100000

Needs PostgreSQL (``DATABASE_URL``, default postgres://postgres@127.0.0.1:5432/rapport_bench;
the database is created and migrated here). Prints, does not assert:

* baseline: the rows, normalised beforehand (outside the timer), COPYed into the same tables
  (accounts, contacts, contact emails and phones, memberships);
* import: ``manage.py rapport_import contacts FILE`` in a subprocess (validation, email and
  phone normalisation, dedupe by email, account find-or-create, audit events), its rows/s and
  peak RSS (the child's ``VmHWM``, sampled while it runs);
* the ratio import/baseline.
"""

from __future__ import annotations

import argparse
import os
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


def run_import(path: Path, url: str) -> tuple[float, int, str]:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", default=str(ROOT / "var" / "bench"))
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


if __name__ == "__main__":
    main()
