"""The repeated values of one contact or account (emails, phones, addresses, memberships, tags).

Read with plain SQL on one cursor because the profile is on every 360° page and API answer:
five tiny indexed reads cost about 0.2 ms each in the database, but five ORM querysets cost
more than a millisecond each to compile. Table and column names come from ``_meta``; the
contact or account id is the only value and is always a parameter. Orders match the models'
``Meta.ordering`` (primary first, then oldest), so these lists equal the ORM's.

The caller has checked that the actor may read the party.
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from rapport.parties.models import Account, AccountMembership, Address, Contact, ContactEmail, ContactPhone, Tag

_ADDRESS_FIELDS = ("id", "kind", "street", "city", "region", "postal_code", "country")


def _rows(cursor: Any, sql: str, party_id: int, names: tuple[str, ...]) -> list[dict[str, Any]]:
    cursor.execute(sql, [party_id])
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _tags_sql(model: type[Contact] | type[Account]) -> str:
    through = model._meta.get_field("tags").remote_field.through._meta  # type: ignore[union-attr]
    column = f"{model._meta.model_name}_id"
    return (
        f"SELECT t.name FROM {Tag._meta.db_table} t JOIN {through.db_table} x ON x.tag_id = t.id "
        f"WHERE x.{column} = %s"
    )


def _addresses_sql(owner_column: str) -> str:
    return (
        f"SELECT {', '.join(_ADDRESS_FIELDS)} FROM {Address._meta.db_table} "
        f"WHERE {owner_column} = %s ORDER BY id"
    )


def contact_details(contact_id: int) -> dict[str, list[Any]]:
    """``emails``, ``phones``, ``addresses``, ``memberships`` (with the account's name) and ``tags``."""
    with connection.cursor() as cursor:
        emails = _rows(
            cursor,
            f"SELECT email, kind, is_primary FROM {ContactEmail._meta.db_table} WHERE contact_id = %s "
            "ORDER BY is_primary DESC, id",
            contact_id,
            ("email", "kind", "is_primary"),
        )
        phones = _rows(
            cursor,
            f"SELECT number, kind, is_primary FROM {ContactPhone._meta.db_table} WHERE contact_id = %s "
            "ORDER BY is_primary DESC, id",
            contact_id,
            ("number", "kind", "is_primary"),
        )
        addresses = _rows(cursor, _addresses_sql("contact_id"), contact_id, _ADDRESS_FIELDS)
        memberships = _rows(
            cursor,
            f"SELECT m.account_id, a.name, m.role, m.is_primary FROM {AccountMembership._meta.db_table} m "
            f"JOIN {Account._meta.db_table} a ON a.id = m.account_id WHERE m.contact_id = %s "
            "ORDER BY m.is_primary DESC, m.id",
            contact_id,
            ("account_id", "account_name", "role", "is_primary"),
        )
        cursor.execute(_tags_sql(Contact), [contact_id])
        tags = sorted(name for (name,) in cursor.fetchall())
    for row in (*emails, *phones, *memberships):
        row["is_primary"] = bool(row["is_primary"])  # SQLite answers 0/1
    return {"emails": emails, "phones": phones, "addresses": addresses, "memberships": memberships, "tags": tags}


def account_details(account_id: int) -> dict[str, list[Any]]:
    """``addresses`` and ``tags`` of an account."""
    with connection.cursor() as cursor:
        addresses = _rows(cursor, _addresses_sql("account_id"), account_id, _ADDRESS_FIELDS)
        cursor.execute(_tags_sql(Account), [account_id])
        tags = sorted(name for (name,) in cursor.fetchall())
    return {"addresses": addresses, "tags": tags}
