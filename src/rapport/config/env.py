"""Small typed readers for settings that come from the environment.

Every deployment knob is an environment variable; nothing secret lives in code. The embedded
(SQLite) install keeps what it must persist, such as its generated secret key, under the data
directory.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if not raw:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def persistent_secret_key(data_dir: Path) -> str:
    """Return ``SECRET_KEY`` from the environment, or one generated once and kept on disk.

    The file is created with mode 0600 so other local users cannot read it.
    """
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def email_settings_from_url(url: str) -> dict[str, object]:
    """Translate ``EMAIL_URL`` (``smtp://user:pass@host:port?tls=1``) into Django settings.

    Schemes: ``smtp``, ``smtps`` (implicit TLS), ``console``, ``locmem``, ``file:///path``.
    """
    parsed = urlparse(url)
    query = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
    scheme = parsed.scheme
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if scheme == "file":
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": parsed.path,
        }
    if scheme not in {"smtp", "smtps"}:
        raise ValueError(f"EMAIL_URL scheme {scheme!r} is not one of smtp, smtps, console, file")
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parsed.hostname or "localhost",
        "EMAIL_PORT": parsed.port or (465 if scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parsed.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
        "EMAIL_USE_SSL": scheme == "smtps",
        "EMAIL_USE_TLS": query.get("tls", "0") in {"1", "true", "yes"},
        "EMAIL_TIMEOUT": int(query.get("timeout", "10")),
    }


def cache_settings_from_url(url: str, default_dir: Path) -> dict[str, dict[str, object]]:
    """Django's ``CACHES`` from ``RAPPORT_CACHE_URL``.

    ``redis://host:port/db`` (or ``rediss://``, ``unix://``) → Redis, shared by every process and
    host; ``file:///path`` → a file cache there; ``locmem:`` → per-process memory. Unset → a file
    cache in ``default_dir``: shared by the web processes, workers and scheduler of one machine, so
    a job can warm what the pages read (Django's own default, per-process memory, cannot).
    """
    scheme = urlparse(url).scheme
    if not url:
        return {"default": _file_cache(str(default_dir))}
    if scheme in {"redis", "rediss", "unix"}:
        return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    if scheme == "file":
        return {"default": _file_cache(unquote(urlparse(url).path))}
    if scheme == "locmem":
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    raise ValueError(f"RAPPORT_CACHE_URL scheme {scheme!r} is not one of redis, rediss, unix, file, locmem")


def _file_cache(location: str) -> dict[str, object]:
    # Past MAX_ENTRIES (Django's default 300) a file cache culls a third of its files at random: the
    # dashboards' figures would go with rate-limit counters. Entries expire by their own timeouts.
    return {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": location,
            "OPTIONS": {"MAX_ENTRIES": 20_000}}
