"""API token issue, check and revoke. The secret is shown once and only its hash is kept."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.db import transaction
from django.utils import timezone

from rapport.core.choices import TokenScope
from rapport.core.errors import NotFound, ValidationFailed
from rapport.core.models import ApiToken, User

TOKEN_PREFIX = "rpt_"  # noqa: S105 - a public marker, not a secret


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(*, actor: User, name: str, scope: str = TokenScope.READ) -> tuple[ApiToken, str]:
    """Issue a token for ``actor``; returns the row and the plain token (never stored)."""
    if scope not in TokenScope.values:
        raise ValidationFailed("Unknown scope.", field_errors={"scope": [f"Use one of {TokenScope.values}."]})
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Name the token.", field_errors={"name": ["A name is required."]})
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    plain = f"{TOKEN_PREFIX}{prefix}_{secret}"
    token = ApiToken.objects.create(user=actor, name=name[:100], prefix=prefix, secret_hash=_hash(plain), scope=scope)
    return token, plain


def api_token_authenticate(plain: str) -> ApiToken | None:
    """The active token for ``plain``, or None. Compares hashes in constant time."""
    if not plain.startswith(TOKEN_PREFIX):
        return None
    prefix = plain[len(TOKEN_PREFIX) :].split("_", 1)[0]
    token = ApiToken.objects.select_related("user").filter(prefix=prefix, revoked_at__isnull=True).first()
    if token is None or not hmac.compare_digest(token.secret_hash, _hash(plain)):
        return None
    if not token.user.is_active:
        return None
    now = timezone.now()
    # Touch last_used at most once a minute: a hot token must not turn every GET into a write.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


@transaction.atomic
def api_token_revoke(*, actor: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id, user=actor).first()
    if token is None:
        raise NotFound(f"Token {token_id} was not found.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
