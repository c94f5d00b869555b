"""Normalisation of emails, phone numbers and web domains, shared by every write path.

* Emails are validated and lower-cased (the whole address: Rapport compares emails
  case-insensitively, as every mail system in practice does). A strict ASCII pattern accepts
  the common case in about a microsecond; anything else goes to ``email-validator``.
* Phones become E.164 (``+14155550100``) via ``phonenumbers``, parsed in the configured
  default region when no ``+country`` prefix is given. A number must be *possible* (right
  length for its country), not provably allocated: CRMs must accept new number ranges.
"""

from __future__ import annotations

import contextlib
import re
from functools import lru_cache
from urllib.parse import urlparse

import phonenumbers
from email_validator import EmailNotValidError, validate_email

_FAST_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_PHONE_JUNK = re.compile(r"[\s().\-/]")
_DIGITS = re.compile(r"\D")


def email_normalize(raw: str) -> str:
    """Return the address lower-cased, or raise ``ValueError`` saying what is wrong."""
    text = (raw or "").strip()
    if not text:
        raise ValueError("empty email address")
    if len(text) <= 254 and _FAST_EMAIL.match(text) and len(text.split("@")[0]) <= 64:
        return text.lower()
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return result.normalized.lower()


@lru_cache(maxsize=4096)
def _region_prefix(region: str) -> int:
    return phonenumbers.country_code_for_region(region)


def phone_normalize(raw: str, region: str = "US") -> str:
    """Return E.164, or raise ``ValueError``. Extensions (``x123``) are dropped."""
    text = (raw or "").strip()
    if not text:
        raise ValueError("empty phone number")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number ({exc._msg})") from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError("not a possible phone number (wrong number of digits)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_search_forms(raw: str, region: str = "US") -> list[str]:
    """The forms a phone query may match: E.164 if it parses, and the bare digits."""
    forms = []
    with contextlib.suppress(ValueError):
        forms.append(phone_normalize(raw, region))
    digits = _DIGITS.sub("", raw)
    if digits:
        forms.append(digits)
    return forms


def looks_like_phone(text: str) -> bool:
    stripped = _PHONE_JUNK.sub("", text.strip())
    return len(stripped) >= 6 and stripped.lstrip("+").isdigit()


def domain_from(value: str) -> str:
    """``https://www.Example.com/about`` → ``example.com``; ``''`` when there is no host."""
    text = (value or "").strip().lower()
    if not text:
        return ""
    if "@" in text and "/" not in text:
        text = text.rsplit("@", 1)[1]
    if "://" not in text:
        text = "http://" + text
    try:
        host = urlparse(text).hostname or ""
    except ValueError:  # e.g. an unbalanced "[" reads as a broken IPv6 literal
        return ""
    return host.removeprefix("www.")


def phone_digits(e164: str) -> str:
    return e164.lstrip("+")
