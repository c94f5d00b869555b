"""What each role may do, by object type: the model-level half of access control.

Row-level access (whose records) is in ``core.permissions``. A role is a Django group of the
same name; ``roles_sync`` makes the groups' permissions equal to ``ROLE_GRANTS`` so the table
below is the single source of truth (the Django admin shows the result).

Letters: v view, a add, c change, d delete, m merge (``parties.merge_contact`` /
``parties.merge_account``: merge duplicate contacts / accounts, review that kind's duplicate
queue, undo its merges; a merge also needs the right to change both records, row by row).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

from rapport.core.choices import Role

_CUSTOMER_DATA = ("parties.account", "parties.contact")
_ACCOUNTS, _CONTACT = ("parties.account",), "parties.contact"
_TIMELINE = ("activities.interaction", "activities.note", "activities.task", "activities.attachment")
_IMPORTS = ("parties.importjob",)
# Commerce: the catalogue is reference data (managers maintain it, everyone who sells reads it);
# orders and what hangs off them are sales records; payments are recorded by managers.
_CATALOGUE = ("commerce.product", "commerce.pricebook", "commerce.pricebookentry", "commerce.exchangerate")
_TAXES = ("commerce.taxrate",)
_ORDERS = ("commerce.order", "commerce.shipment", "commerce.subscription")
_BILLING = ("commerce.invoice", "commerce.payment")
_COMMERCE_ALL = _CATALOGUE + _TAXES + _ORDERS + _BILLING
# Sales: leads and deals are owned records; pipelines and their stages are the sales process,
# which sales managers (and administrators) define.
_DEALS = ("sales.lead", "sales.opportunity", "sales.quote")
_PROCESS = ("sales.pipeline", "sales.stage")
# How leads are scored, routed and captured: sales managers (and administrators) decide.
_LEAD_SETUP = ("sales.leadscoringrule", "sales.assignmentrule", "sales.webform")
# Service cases are worked by service agents and their managers; sales sees its customers' cases
# (row access follows the case's owner and team, like any owned record).
_CASES = ("service.case",)
# Campaigns and who responded to them are the marketers'; everyone else who works customers reads them.
_CAMPAIGNS = ("marketing.campaign", "marketing.campaignmember")
# The warehouse aggregates every customer's orders and interactions with no row-level filter,
# so it goes to those who may see across teams: analysts, managers (and administrators); not reps.
_WAREHOUSE = ("insights.warehouse",)
# Stored scores are per customer and shown on the 360° page (row access follows the account);
# churn alerts are worked by whoever owns the account: reps, agents and their managers decide them.
_SCORES = ("insights.customerscore",)
_ALERTS = ("insights.churnalert",)

ROLE_GRANTS: dict[str, dict[str, str]] = {
    Role.SALES_MANAGER: {
        **dict.fromkeys(_IMPORTS + _TIMELINE, "vacd"),
        **dict.fromkeys(_ACCOUNTS, "vacdm"),
        _CONTACT: "vacdm",
        **dict.fromkeys(_CATALOGUE + _ORDERS + _BILLING, "vac"),
        **dict.fromkeys(_TAXES, "v"),
        **dict.fromkeys(_DEALS, "vacd"),
        **dict.fromkeys(_PROCESS, "vacd"),
        **dict.fromkeys(_LEAD_SETUP, "vacd"),
        **dict.fromkeys(_WAREHOUSE + _SCORES + ("insights.scoringrun",), "v"),
        **dict.fromkeys(_ALERTS, "vc"),
        **dict.fromkeys(_CASES, "vac"),
        **dict.fromkeys(_CAMPAIGNS, "v"),
    },
    # Reps may merge the contacts and accounts they may change (their own and their team's).
    Role.SALES_REP: {
        **dict.fromkeys(_IMPORTS + _TIMELINE, "vacd"),
        **dict.fromkeys(_ACCOUNTS, "vacdm"),
        _CONTACT: "vacdm",
        **dict.fromkeys(_CATALOGUE + _TAXES + ("commerce.payment",), "v"),
        **dict.fromkeys(_ORDERS, "vac"),
        "commerce.invoice": "va",
        **dict.fromkeys(_DEALS, "vacd"),
        **dict.fromkeys(_PROCESS, "v"),
        **dict.fromkeys(_SCORES, "v"),
        **dict.fromkeys(_ALERTS, "vc"),
        **dict.fromkeys(_CASES, "vac"),
        **dict.fromkeys(_CAMPAIGNS, "v"),
    },
    Role.MARKETER: {
        **dict.fromkeys(_CUSTOMER_DATA + _IMPORTS, "vac"),
        **dict.fromkeys(_TIMELINE, "vac"),
        "commerce.product": "v",
        "sales.lead": "vac",
        **dict.fromkeys(_PROCESS, "v"),
        **dict.fromkeys(_SCORES, "v"),
        **dict.fromkeys(_CAMPAIGNS, "vac"),
    },
    Role.SERVICE_MANAGER: {
        **dict.fromkeys(_ACCOUNTS, "vac"),
        _CONTACT: "vacm",
        **dict.fromkeys(_TIMELINE, "vacd"),
        **dict.fromkeys(_COMMERCE_ALL, "v"),
        **dict.fromkeys(_WAREHOUSE + _SCORES, "v"),
        **dict.fromkeys(_ALERTS, "vc"),
        **dict.fromkeys(_CASES, "vac"),
        **dict.fromkeys(_CAMPAIGNS, "v"),
    },
    Role.SERVICE_AGENT: {
        **dict.fromkeys(_CUSTOMER_DATA, "vac"),
        **dict.fromkeys(_TIMELINE, "vac"),
        **dict.fromkeys(_COMMERCE_ALL, "v"),
        **dict.fromkeys(_SCORES, "v"),
        **dict.fromkeys(_ALERTS, "vc"),
        **dict.fromkeys(_CASES, "vac"),
        **dict.fromkeys(_CAMPAIGNS, "v"),
    },
    Role.ANALYST: {**dict.fromkeys(_CUSTOMER_DATA + _TIMELINE + _COMMERCE_ALL + _DEALS + _PROCESS + _WAREHOUSE + _SCORES
                                   + _CASES + _CAMPAIGNS + ("insights.scoringrun",), "v")},
}
_ACTIONS = {"v": "view", "a": "add", "c": "change", "d": "delete", "m": "merge"}


def _codenames(model_label: str, letters: str) -> list[tuple[str, str]]:
    app_label, model = model_label.split(".")
    return [(app_label, f"{_ACTIONS[letter]}_{model}") for letter in letters]


def roles_sync() -> None:
    """Create one group per role and set its permissions to exactly what ROLE_GRANTS says.

    Administrators get every permission. Idempotent.
    """
    all_perms = {(p.content_type.app_label, p.codename): p for p in Permission.objects.select_related("content_type")}
    for role in Role:
        group, _created = Group.objects.get_or_create(name=role.value)
        if role == Role.ADMINISTRATOR:
            wanted = list(all_perms.values())
        else:
            wanted = []
            for model_label, letters in ROLE_GRANTS.get(role, {}).items():
                wanted += [all_perms[key] for key in _codenames(model_label, letters) if key in all_perms]
        group.permissions.set(wanted)


def roles_sync_after_migrate(**kwargs: Any) -> None:
    roles_sync()
