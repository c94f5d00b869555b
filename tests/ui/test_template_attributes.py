"""Numbers inside HTML attributes are never localised: with ``USE_THOUSAND_SEPARATOR`` an id,
version or count of 1000 or more would be written ``1,224`` into a ``value``, ``data-*`` or
``href`` and come back as a bad id (a rep filter that matched no option, a board move to
``/api/v1/opportunities/1,224``). Every bare ``{{ variable }}`` in a quoted attribute value goes
through ``unlocalize`` (a template builtin); this test finds any that does not, and checks the
rendered pages with ids above 1000."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from tests.conftest import PASSWORD

from rapport.core.models import Team, User
from rapport.core.roles import Role

SRC = Path(__file__).resolve().parents[2] / "src" / "rapport"
TAG = re.compile(r"<[a-zA-Z][^<>]*>")
ATTRIBUTE = re.compile(r'="([^"]*)"')
BARE = re.compile(r"\{\{\s*[\w.]+\s*\}\}")
BLOCKTRANS = re.compile(r"\{%\s*blocktrans(?:late)?\b.*?\{%\s*endblocktrans(?:late)?\s*%\}", re.S)


def _bare_in_attributes(text: str) -> list[str]:
    text = BLOCKTRANS.sub("", text)  # variables in blocktranslate take no filters (and are text)
    return [m.group(0) for tag in TAG.finditer(text) for value in ATTRIBUTE.finditer(tag.group(0))
            for m in BARE.finditer(value.group(1))]


def test_the_check_finds_a_bare_number_in_an_attribute() -> None:
    assert _bare_in_attributes('<option value="{{ r.pk }}">{{ r.name }}</option>') == ["{{ r.pk }}"]
    assert _bare_in_attributes('<option value="{{ r.pk|unlocalize }}">{{ r.pk }}</option>') == []


def test_no_template_writes_a_localised_value_into_an_attribute() -> None:
    found = {str(path.relative_to(SRC)): bare for path in sorted(SRC.rglob("*.html"))
             if (bare := _bare_in_attributes(path.read_text(encoding="utf-8")))}
    assert found == {}


@pytest.mark.django_db
def test_ids_above_a_thousand_reach_the_form_unseparated() -> None:
    team = Team.objects.create(pk=12345, name="Big team")
    manager = User.objects.create_user(id=23456, username="big_manager", password=PASSWORD, team=team)
    manager.groups.add(Group.objects.get(name=Role.SALES_MANAGER))
    client = Client()
    client.force_login(manager)
    body = client.get("/sales/metrics/").content.decode()
    assert 'value="23456"' in body and 'value="12345"' in body and "23,456" not in body
    assert client.get("/sales/metrics/?rep=23456").status_code == 200
