"""The cache setting: RAPPORT_CACHE_URL picks Redis (or a file or memory cache), unset gives a file
cache under the data directory that every process of the machine shares; and a Redis-backed
cache really stores and returns values on the Redis server the tests run beside (127.0.0.1:6379,
or RAPPORT_TEST_REDIS_URL; scripts/test.sh starts it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
from django.utils.module_loading import import_string

from rapport.config.env import cache_settings_from_url

REDIS_URL = os.environ.get("RAPPORT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REDIS = "django.core.cache.backends.redis.RedisCache"
FILE = "django.core.cache.backends.filebased.FileBasedCache"


def test_a_redis_url_picks_the_redis_cache(tmp_path):
    for url in ("redis://127.0.0.1:6379/1", "rediss://user:secret@cache.example:6380/0", "unix:///run/redis.sock"):
        assert cache_settings_from_url(url, tmp_path) == {"default": {"BACKEND": REDIS, "LOCATION": url}}


def test_unset_is_a_file_cache_in_the_data_directory(tmp_path):
    default = cache_settings_from_url("", tmp_path / "cache")["default"]
    assert (default["BACKEND"], default["LOCATION"]) == (FILE, str(tmp_path / "cache"))
    assert default["OPTIONS"] == {"MAX_ENTRIES": 20_000}
    elsewhere = cache_settings_from_url("file:///srv/rapport%20cache", tmp_path)["default"]
    assert (elsewhere["BACKEND"], elsewhere["LOCATION"]) == (FILE, "/srv/rapport cache")
    memory = cache_settings_from_url("locmem:", tmp_path)["default"]
    assert memory == {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}


def test_an_unknown_scheme_is_refused(tmp_path):
    with pytest.raises(ValueError, match="scheme 'memcached' is not one of"):
        cache_settings_from_url("memcached://127.0.0.1:11211", tmp_path)


def _settings_caches(tmp_path: Path, **env: str) -> dict:
    """CACHES as a fresh interpreter's settings module builds it from the environment."""
    clean = {k: v for k, v in os.environ.items() if k not in ("RAPPORT_CACHE_URL", "DJANGO_SETTINGS_MODULE")}
    code = "import json, rapport.config.settings as s; print(json.dumps(s.CACHES))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120,
                          env={**clean, "RAPPORT_DATA_DIR": str(tmp_path), "SECRET_KEY": "x" * 50, **env})
    return json.loads(done.stdout)


def test_the_settings_read_rapport_cache_url(tmp_path):
    assert _settings_caches(tmp_path, RAPPORT_CACHE_URL="redis://127.0.0.1:6379/1") == {
        "default": {"BACKEND": REDIS, "LOCATION": "redis://127.0.0.1:6379/1"}}
    default = _settings_caches(tmp_path)["default"]
    assert (default["BACKEND"], default["LOCATION"]) == (FILE, str(tmp_path / "cache"))


def test_the_tests_themselves_use_per_process_memory():
    from django.conf import settings
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert isinstance(caches["default"], LocMemCache)


def test_a_redis_cache_round_trips_on_the_redis_server():
    import redis

    config = dict(cache_settings_from_url(REDIS_URL, Path("/nonexistent"))["default"])
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.fail(f"No Redis server at {REDIS_URL} ({exc}); start one (scripts/redis.sh) or set "
                    "RAPPORT_TEST_REDIS_URL")
    # A key prefix of its own: the test touches no other key on the server (and never clears it).
    backend = import_string(str(config.pop("BACKEND")))(config.pop("LOCATION"),
                                                        {"KEY_PREFIX": f"rapport-test-{uuid.uuid4().hex}"})
    figures = {"status": "ok", "median": 0.4321, "_customers": {"key": np.arange(5), "risk": np.linspace(0, 1, 5)}}
    try:
        assert backend.get("insights:dash:v1:x") is None
        backend.set("insights:dash:v1:x", figures, 60)
        got = backend.get("insights:dash:v1:x")
        assert got["median"] == 0.4321 and got["status"] == "ok"
        assert np.array_equal(got["_customers"]["key"], np.arange(5))  # pickled numpy arrays, as the pages cache
        assert backend.add("counter", 1, 60) and not backend.add("counter", 5, 60)
        assert backend.incr("counter") == 2
        assert backend.get_many(["counter", "missing"]) == {"counter": 2}
        backend.delete("insights:dash:v1:x")
        assert backend.get("insights:dash:v1:x", "gone") == "gone"
    finally:
        backend.delete_many(["insights:dash:v1:x", "counter"])
        backend.close()
