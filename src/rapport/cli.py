"""The ``rapport`` command: a thin front to Django's manage.py with the verbs users script.

rapport serve [--bind HOST:PORT] [--workers N] [--dev]   serve the web app (gunicorn)
rapport worker                                           a Celery worker with beat
rapport demo [--contacts N ...]                          load the demo data set
rapport import contacts|accounts FILE [options]          import a file
rapport import leads FILE [--source S --campaign C --as USER]  import leads (CSV; bad rows listed by line)
rapport inbound-lead [--as USER] < MESSAGE.eml            a lead from an email message on stdin
rapport export contacts|accounts --format csv|vcard|parquet --output PATH
rapport createuser USERNAME --role ROLE [--team NAME]    add a user
rapport resolve FILE.csv --id-column ID --output OUT.csv  cluster the duplicate people in a CSV file
rapport dedupe [--auto-merge-at P] [--review-at P] [--dry-run]  merge sure duplicate contacts, queue the rest
rapport warehouse build [--incremental] | info                 build or refresh the DuckDB warehouse
rapport insights score [--no-alerts]                            score every customer, raise churn alerts
rapport analytics clv --transactions FILE.csv ... | --summary FILE.csv ... --output OUT.csv  lifetime value
rapport analytics churn --input FILE.csv --target COLUMN [--score OTHER.csv] --output OUT.csv  churn scores
rapport <any manage.py command>                          e.g. migrate, shell, check
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

_ALIASES = {"import": "rapport_import", "export": "rapport_export", "createuser": "rapport_createuser",
            "resolve": "rapport_resolve", "dedupe": "rapport_dedupe", "inbound-lead": "rapport_inbound_lead",
            "warehouse": "rapport_warehouse", "insights": "rapport_insights"}


def _manage(argv: list[str]) -> None:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["rapport", *argv])


def _serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="rapport serve", description="Serve Rapport over HTTP.")
    parser.add_argument("--bind", default=os.environ.get("RAPPORT_BIND", "127.0.0.1:8000"))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    parser.add_argument("--dev", action="store_true", help="Django's auto-reloading development server instead")
    args = parser.parse_args(argv)
    from django.conf import settings

    children: list[subprocess.Popen] = []
    if not settings.CELERY_BROKER_URL:
        # No broker: periodic jobs (reminders, ...) run from an in-process scheduler beside the web server.
        children.append(subprocess.Popen([sys.executable, "-m", "rapport.cli", "rapport_scheduler"]))  # noqa: S603
    try:
        if args.dev:
            print("Serving with Django's development server (not for production).")
            _manage(["runserver", args.bind, "--noreload"])
            return 0
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "rapport.config.wsgi:application",
            "--bind",
            args.bind,
            "--workers",
            str(args.workers),
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--access-logfile",
            "-",
            "--forwarded-allow-ips",
            os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        ]
        return subprocess.call(command)  # noqa: S603
    finally:
        for child in children:
            child.terminate()


def _worker(argv: list[str]) -> int:
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "rapport.config",
        "worker",
        "--beat",
        "-Q",
        "celery,imports",
        "--loglevel",
        "INFO",
        *argv,
    ]
    return subprocess.call(command)  # noqa: S603


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.config.settings")
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return
    verb, rest = argv[0], argv[1:]
    if verb == "worker":
        sys.exit(_worker(rest))
    import django

    django.setup()
    if verb == "serve":
        sys.exit(_serve(rest))
    if verb == "analytics":
        # Command groups: "rapport analytics clv ..." runs the rapport_analytics_clv command.
        if not rest or rest[0].startswith("-"):
            print("usage: rapport analytics clv|churn ...  (rapport analytics clv --help)")
            sys.exit(2)
        verb, rest = f"rapport_analytics_{rest[0]}", rest[1:]
    if verb == "import" and rest[:1] == ["leads"]:
        # Leads are a sales record: their import lives in the sales app, not in parties' importer.
        verb, rest = "rapport_import_leads", rest[1:]
    _manage([_ALIASES.get(verb, verb), *rest])


if __name__ == "__main__":
    main()
