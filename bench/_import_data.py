"""Seeded, realistic contact rows for the import benchmark (names, emails, phones, companies)."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from pathlib import Path

FIRST = [
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Katherine",
    "Dennis",
    "Barbara",
    "Ken",
    "Frances",
    "Edsger",
    "Radia",
    "Tim",
    "Hedy",
    "John",
    "Mary",
    "Carlos",
    "Sofia",
    "Wei",
    "Aisha",
    "Jürgen",
    "Zoë",
    "Renée",
    "Olu",
]
LAST = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Johnson",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Allen",
    "Dijkstra",
    "Perlman",
    "Berners-Lee",
    "Lamarr",
    "McCarthy",
    "Keller",
    "García",
    "Rossi",
    "Zhang",
    "Khan",
    "Müller",
    "Dubois",
    "Okafor",
    "Smith",
]
DOMAINS = ["example.com", "mail.test", "corp.example", "acme.test", "globex.example", "initech.test"]
TITLES = ["CEO", "CTO", "Engineer", "Sales Manager", "Buyer", "Analyst", "Director", ""]
HEADER = ["First Name", "Last Name", "Email", "Phone", "Company", "Job Title"]


def _phone(rng: random.Random, n: int) -> str:
    area = 200 + n % 800
    line = n % 10_000
    exchange = 200 + (n // 10_000) % 800
    shape = rng.random()
    if shape < 0.35:
        return f"+1{area}{exchange}{line:04d}"
    if shape < 0.6:
        return f"({area}) {exchange}-{line:04d}"
    if shape < 0.8:
        return f"{area}-{exchange}-{line:04d}"
    if shape < 0.9:
        return f"{area}.{exchange}.{line:04d}"
    if shape < 0.97:
        return f"+1 {area} {exchange} {line:04d}"
    return f"+44 20 7{n % 1000:03d} {n % 10000:04d}"


def rows(count: int, *, seed: int = 42, companies: int = 5000) -> Iterator[list[str]]:
    """``count`` rows; ~2% repeat an earlier person's email in another case (in-file duplicates)."""
    rng = random.Random(seed)
    company_names = [
        f"{rng.choice(LAST)} {rng.choice(['Ltd', 'Inc', 'GmbH', 'SA', 'Group'])} {i}" for i in range(companies)
    ]
    recent: list[list[str]] = []
    for n in range(count):
        if recent and rng.random() < 0.02:
            dup = list(rng.choice(recent))
            dup[2] = dup[2].upper()
            yield dup
            continue
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first.lower()}.{last.lower()}.{n}@{rng.choice(DOMAINS)}".replace("ü", "u").replace("ë", "e")
        email = email.replace("é", "e").replace("í", "i")
        row = [first, last, email, _phone(rng, n), rng.choice(company_names), rng.choice(TITLES)]
        if len(recent) < 1000:
            recent.append(row)
        else:
            recent[n % 1000] = row
        yield row


def write_csv(path: Path, count: int, *, seed: int = 42) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows(count, seed=seed))
    return path
