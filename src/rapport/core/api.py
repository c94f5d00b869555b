"""API of the signed-in user: profile, API tokens, notifications."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from rapport.core.models import Team, User
from rapport.core.notifications import notifications_mark_read
from rapport.core.schemas import (
    Id,
    MeOut,
    NotificationOut,
    NotificationsReadIn,
    TeamOut,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
    UserRef,
)
from rapport.core.tokens import api_token_create, api_token_revoke

router = Router(tags=["me"])


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> dict:
    user = request.user
    return {
        "id": user.pk,
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "team_id": user.team_id,
        "roles": sorted(user.role_names),
        "time_zone": user.time_zone,
        "language": user.language,
    }


@router.get("/users", response=list[UserRef])
def users_list(request: HttpRequest) -> list[dict]:
    """Active users, to pick owners and assignees from (names only: no contact details, no roles)."""
    users = User.objects.filter(is_active=True).order_by("username")
    return [{"id": u.pk, "username": u.username, "name": str(u)} for u in users]


@router.get("/teams", response=list[TeamOut])
def teams_list(request: HttpRequest) -> list[Team]:
    return list(Team.objects.all())


@router.get("/tokens", response=list[TokenOut])
def tokens_list(request: HttpRequest) -> list:
    return list(request.user.api_tokens.all())


@router.post("/tokens", response={201: TokenCreatedOut})
def tokens_create(request: HttpRequest, payload: TokenIn) -> Status:
    token, plain = api_token_create(actor=request.user, name=payload.name, scope=payload.scope)
    return Status(201, {**TokenOut.from_orm(token).dict(), "token": plain})


@router.delete("/tokens/{token_id}", response={204: None})
def tokens_revoke(request: HttpRequest, token_id: Id) -> Status:
    api_token_revoke(actor=request.user, token_id=token_id)
    return Status(204, None)


@router.get("/notifications", response=list[NotificationOut])
def notifications_list(request: HttpRequest, unread: bool = False) -> list:
    qs = request.user.notifications.all()
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return list(qs[:100])


@router.post("/notifications/read")
def notifications_read(request: HttpRequest, payload: NotificationsReadIn) -> dict:
    return {"marked": notifications_mark_read(user=request.user, ids=payload.ids)}
