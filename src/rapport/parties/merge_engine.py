"""The merge engine shared by contacts and accounts: merge one party into another, and undo it exactly.

What a kind of party brings is a :class:`MergeSpec` (``parties.merge`` for contacts,
``parties.merge_accounts`` for accounts): its model, merge record and pair model, the fields a
reviewer chooses between and their default survivorship rules, its *children* (its own values,
copied to the survivor and restored from the snapshot) and a few hooks. Everything else is here
and the same for every kind:

* **Survivorship**: per field a rule — ``survivor`` (the survivor's value unless empty; the
  default), ``recent`` (the record changed last) or ``trusted`` (the record whose ``source``
  ranks higher in ``RAPPORT_MERGE_TRUSTED_SOURCES``; no ``source``, no ranking or a tie is
  ``survivor``) — from the kind's defaults with its settings (``spec.rules_setting``) on top,
  and ``field_choices`` (``{field: "survivor" | "duplicate"}``) over both for one merge.
  Owner and team are always the survivor's.
* **Re-pointing**: every other row of any app that points at the duplicate (found through
  ``_meta``, hidden relations and many-to-many link tables included) is moved to the survivor;
  a row that would break a unique constraint is dropped instead (kept whole in the merge record)
  unless dropping it would cascade, which refuses the merge.
* **Self links** (``spec.self_link``: reports-to, parent account): the survivor's link to the
  duplicate becomes the duplicate's own link, and a merge that would close a loop — counting the
  rows re-pointed from the duplicate — is refused before anything is written.
* **Record and audit**: the duplicate's full row and children, the moved and dropped rows, what
  the survivor gained and which of its fields changed; an ``AuditEvent`` on both records in the
  same transaction; then the duplicate is deleted.
* **Undo**: the duplicate returns with its id, fields and children; exactly the recorded rows
  move back (rows moved elsewhere or deleted since stay, and are counted); dropped rows return;
  what the survivor gained is taken back; the survivor's fields get their old values except a
  field changed again after the merge (kept, and listed in ``undo_report``). An undo is final.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import router
from django.db.models import Field, Model, UniqueConstraint
from django.db.models.deletion import Collector
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from rapport.core import permissions
from rapport.core.audit import _jsonable, audit_record, diff, snapshot
from rapport.core.choices import AuditAction
from rapport.core.errors import Conflict, NotFound, ValidationFailed
from rapport.core.models import User
from rapport.core.versioning import versioned_save
from rapport.parties.choices import DuplicateStatus

RULES = ("survivor", "recent", "trusted")
# Apps above parties that keep data derived from a party's rows (e.g. commerce's per-account
# purchase summary) register here; see :func:`merge_listen`.
MergeListener = Callable[..., None]
_listeners: list[MergeListener] = []
CHOICES = ("survivor", "duplicate")
_CHUNK = 500

Children = frozenset[tuple[type[Model], str]]


class MergeAlreadyUndone(Conflict):
    slug = "merge-already-undone"
    title = "This merge was undone already"


@dataclass(frozen=True)
class MergeSpec:
    """What one kind of party brings to the engine.

    Hooks: ``dump_children(party)`` -> the snapshot of its own rows; ``add_children(survivor,
    duplicate)`` -> what was given to the survivor (recorded as ``added``);
    ``remove_added(survivor, added)``; ``restore_children(party, children)`` -> descriptions of rows
    that could not return; ``finish(survivor, duplicate_pk, added)`` runs after re-pointing (the
    denormalised columns, search text) and returns more entries for ``added``;
    ``after_restore(duplicate)`` and ``undo_finish(survivor, duplicate, added)`` are their undo
    counterparts; ``snapshot_extra(party)`` is the audit view of its children.
    """

    model: type[Model]
    merge_model: type[Model]
    pair_model: type[Model]
    pair_fields: tuple[str, str]  # the pair's two id columns, low then high
    merge_fields: tuple[str, ...]
    default_rules: dict[str, str]
    rules_setting: str
    children: Children
    self_link: str
    write_fields: tuple[str, ...]
    dump_children: Callable[[Any], dict[str, Any]]
    add_children: Callable[[Any, Any], dict[str, Any]]
    remove_added: Callable[[Any, dict[str, Any]], None]
    restore_children: Callable[[Any, dict[str, Any]], list[str]]
    finish: Callable[[Any, int, dict[str, Any]], dict[str, Any]]
    after_restore: Callable[[Any], None]
    undo_finish: Callable[[Any, Any, dict[str, Any]], None]
    snapshot_extra: Callable[[Any], dict[str, Any]]
    audit_key: str  # the change key naming the merged record: "merged_contact"
    self_merge_message: Promise
    gone_message: Promise  # "%(id)s was deleted or merged meanwhile"
    loop_message: Promise
    loop_field_message: Promise
    not_found_message: Promise


@dataclass(frozen=True)
class MergeField:
    """One field of a planned merge: both values, the rule, and which value survives."""

    name: str
    label: str
    survivor_value: Any
    duplicate_value: Any
    rule: str
    default: str  # what the rule chose: "survivor" or "duplicate"
    choice: str  # what survives after the caller's field_choices
    model: type[Model] | None = None

    @property
    def survivor_display(self) -> Any:
        return _display(self.model, self.name, self.survivor_value)

    @property
    def duplicate_display(self) -> Any:
        return _display(self.model, self.name, self.duplicate_value)


def _display(model: type[Model] | None, name: str, value: Any) -> Any:
    """A value as a person reads it: a choice field's label rather than its stored code."""
    if model is None or name.startswith("custom.") or value in (None, ""):
        return value
    choices = dict(model._meta.get_field(name).flatchoices)
    return choices.get(value, value)


# --- survivorship ----------------------------------------------------------------------------


def empty(value: Any) -> bool:
    return value in (None, "", [], {})


def merge_rules(spec: MergeSpec) -> dict[str, str]:
    """The rule of each field: the kind's defaults with its setting on top."""
    configured = getattr(settings, spec.rules_setting, None) or {}
    rules = {**spec.default_rules, **configured}
    unknown = {name: rule for name, rule in rules.items() if rule not in RULES}
    if unknown:
        raise ValidationFailed(f"{spec.rules_setting} names unknown rules: {unknown}; use one of {', '.join(RULES)}.")
    return rules


def rule_for(name: str, rules: dict[str, str]) -> str:
    """The rule of one field, from ``merge_rules()`` (read once per merge, not per field)."""
    if name.startswith("custom."):
        return rules.get(name, rules.get("custom", "survivor"))
    return rules.get(name, "survivor")


def _source_rank(source: str) -> int:
    ranking = [s.strip().lower() for s in getattr(settings, "RAPPORT_MERGE_TRUSTED_SOURCES", ()) or ()]
    value = (source or "").strip().lower()
    return len(ranking) - ranking.index(value) if value in ranking else 0


def _rule_choice(rule: str, survivor: Model, duplicate: Model, s_value: Any, d_value: Any) -> str:
    if empty(s_value) and not empty(d_value):
        return "duplicate"
    if empty(d_value):
        return "survivor"
    if rule == "recent":
        return "duplicate" if duplicate.updated_at > survivor.updated_at else "survivor"  # type: ignore[attr-defined]
    if rule == "trusted":
        ranks = (_source_rank(getattr(duplicate, "source", "")), _source_rank(getattr(survivor, "source", "")))
        return "duplicate" if ranks[0] > ranks[1] else "survivor"
    return "survivor"


def field_value(party: Model, name: str) -> Any:
    if name.startswith("custom."):
        return (party.custom or {}).get(name.removeprefix("custom."))  # type: ignore[attr-defined]
    return getattr(party, party._meta.get_field(name).attname)


def _custom_labels(model: type[Model], names: list[str]) -> dict[str, str]:
    """Labels of the custom fields among ``names``, in one query (none when there are none)."""
    if not any(name.startswith("custom.") for name in names):
        return {}
    from rapport.core.custom_fields import custom_field_definitions

    return {definition.key: definition.label for definition in custom_field_definitions(model)}


def _field_label(model: type[Model], name: str, custom_labels: dict[str, str]) -> str:
    if name.startswith("custom."):
        key = name.removeprefix("custom.")
        return custom_labels.get(key, key)
    return str(model._meta.get_field(name).verbose_name)


def merge_field_names(spec: MergeSpec, survivor: Model, duplicate: Model) -> list[str]:
    custom = sorted({*(survivor.custom or {}), *(duplicate.custom or {})})  # type: ignore[attr-defined]
    return [*spec.merge_fields, *(f"custom.{key}" for key in custom)]


def _clean_choices(names: list[str], field_choices: dict[str, str] | None) -> dict[str, str]:
    choices = dict(field_choices or {})
    errors: dict[str, list[str]] = {}
    for name, choice in choices.items():
        if name not in names:
            errors.setdefault(f"field_choices.{name}", []).append(_("No such field to merge."))
        elif choice not in CHOICES:
            errors.setdefault(f"field_choices.{name}", []).append(_("Use “survivor” or “duplicate”."))
    if errors:
        raise ValidationFailed(_("The field choices are not valid."), field_errors=errors)
    return choices


def merge_plan(
    spec: MergeSpec, *, survivor: Model, duplicate: Model, field_choices: dict[str, str] | None = None
) -> list[MergeField]:
    """What a merge would keep, field by field (the review page's rows and its radio defaults)."""
    names = merge_field_names(spec, survivor, duplicate)
    choices = _clean_choices(names, field_choices)
    rules, custom_labels = merge_rules(spec), _custom_labels(spec.model, names)
    plan = []
    for name in names:
        s_value, d_value = field_value(survivor, name), field_value(duplicate, name)
        rule = rule_for(name, rules)
        default = _rule_choice(rule, survivor, duplicate, s_value, d_value)
        plan.append(MergeField(name=name, label=_field_label(spec.model, name, custom_labels),
                               survivor_value=s_value, duplicate_value=d_value, rule=rule, default=default,
                               choice=choices.get(name, default), model=spec.model))
    return plan


# --- generic row helpers -----------------------------------------------------------------------


def dump(instance: Model) -> dict[str, Any]:
    """Every concrete column of a row, JSON-ready (foreign keys as ids)."""
    return {f.attname: _jsonable(getattr(instance, f.attname)) for f in instance._meta.concrete_fields}


def load(model: type[Model], data: dict[str, Any]) -> Model:
    values = {}
    for f in model._meta.concrete_fields:
        if f.attname in data:
            values[f.attname] = None if data[f.attname] is None else f.to_python(data[f.attname])
    return model(**values)


def _model(label: str) -> type[Model]:
    from django.apps import apps

    return apps.get_model(label)


def restorable(instance: Model) -> list[str]:
    """Make ``instance``'s foreign keys insertable: a vanished target becomes NULL where allowed.

    Returns the names of required links whose target is gone (the row cannot come back).
    """
    missing = []
    for f in instance._meta.concrete_fields:
        if not f.is_relation or not f.db_constraint:
            continue
        value = getattr(instance, f.attname)
        if value is None:
            continue
        if not f.related_model._base_manager.filter(pk=value).exists():
            if f.null:
                setattr(instance, f.attname, None)
            else:
                missing.append(f.name)
    return missing


def _links(spec: MergeSpec) -> list[tuple[type[Model], Field]]:
    """Every foreign key or one-to-one of any model that points at the party, except its children.

    Hidden relations (``related_name="+"``) and the link tables of many-to-many fields are
    included: they are foreign keys of their own (auto-created) models. The kind's pair model is
    left alone: pairs name parties by id and outlive them.
    """
    found = []
    for rel in spec.model._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
            continue
        related, field = rel.related_model, rel.field
        if related is spec.pair_model or (related, field.name) in spec.children:
            continue
        found.append((related, field))
    return found


def _unique_partners(model: type[Model], field: Field) -> list[tuple[str, ...]]:
    """For each unique rule that includes ``field``: the other columns of that rule."""
    sets: list[tuple[str, ...]] = []
    if field.unique:
        sets.append(())
    for names in model._meta.unique_together:
        if field.name in names:
            sets.append(tuple(n for n in names if n != field.name))
    for constraint in model._meta.constraints:
        if isinstance(constraint, UniqueConstraint) and constraint.fields and field.name in constraint.fields:
            sets.append(tuple(n for n in constraint.fields if n != field.name))
    return sets


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _cascades(model: type[Model], pks: list[Any]) -> bool:
    """Would deleting these rows delete or change other rows too?"""
    rows = list(model._base_manager.filter(pk__in=pks))
    collector = Collector(using=router.db_for_write(model))
    collector.collect(rows)
    collected = sum(len(objs) for objs in collector.data.values())
    return collected > len(rows) or any(qs.exists() for qs in collector.fast_deletes) or bool(collector.field_updates)


def _touched(model: type[Model]) -> dict[str, Any]:
    """``updated_at = now`` for a model that has it: a re-pointed row has changed, and whatever
    reads rows changed since a time (the warehouse's incremental refresh) must see it."""
    names = {f.name for f in model._meta.concrete_fields}
    return {"updated_at": timezone.now()} if "updated_at" in names else {}


def _repoint(spec: MergeSpec, *, old_pk: int, new_pk: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Move every row pointing at ``old_pk`` to ``new_pk``; returns (repointed, dropped)."""
    repointed: list[dict[str, Any]] = []
    dropped: list[dict[str, Any]] = []
    for model, field in _links(spec):
        manager = model._base_manager
        rows = manager.filter(**{field.attname: old_pk})
        if model is spec.model:
            rows = rows.exclude(pk=new_pk)  # the survivor's own link to the duplicate is a field
        pks = list(rows.values_list("pk", flat=True))
        if not pks:
            continue
        conflicts: set[Any] = set()
        for partners in _unique_partners(model, field):
            if not partners:
                if manager.filter(**{field.attname: new_pk}).exists():
                    conflicts.update(pks)
                continue
            taken = set(manager.filter(**{field.attname: new_pk}).values_list(*partners))
            for pk, *values in manager.filter(pk__in=pks).values_list("pk", *partners):
                if tuple(values) in taken:
                    conflicts.add(pk)
        if conflicts:
            conflict_list = sorted(conflicts)
            if _cascades(model, conflict_list):
                raise ValidationFailed(
                    _(
                        "These records cannot be merged: both have a %(model)s that may exist only once, "
                        "and removing the duplicate's would remove more. Resolve it by hand first."
                    )
                    % {"model": model._meta.verbose_name}
                )
            for row in manager.filter(pk__in=conflict_list):
                dropped.append({"model": model._meta.label_lower, "field": field.name, "row": dump(row)})
            manager.filter(pk__in=conflict_list).delete()
        moving = [pk for pk in pks if pk not in conflicts]
        for chunk in _chunks(moving):
            manager.filter(pk__in=chunk).update(**{field.attname: new_pk}, **_touched(model))
        if moving:
            repointed.append({"model": model._meta.label_lower, "field": field.name, "pks": _jsonable(moving)})
    return repointed, dropped


def _repoint_back(*, merge_rows: list[dict[str, Any]], old_pk: int, new_pk: int) -> dict[str, int]:
    """Move the recorded rows that still point at ``new_pk`` back to ``old_pk``; counts not moved."""
    stayed: dict[str, int] = {}
    for entry in merge_rows:
        model = _model(entry["model"])
        field = model._meta.get_field(entry["field"])
        moved = 0
        for chunk in _chunks(list(entry["pks"])):
            moved += model._base_manager.filter(pk__in=chunk, **{field.attname: new_pk}).update(
                **{field.attname: old_pk}, **_touched(model)
            )
        if moved != len(entry["pks"]):
            stayed[entry["model"]] = stayed.get(entry["model"], 0) + len(entry["pks"]) - moved
    return stayed


def _restore_rows(rows: list[dict[str, Any]]) -> list[str]:
    """Put dropped rows back; returns descriptions of those that could not return."""
    lost = []
    for entry in rows:
        model = _model(entry["model"])
        instance = load(model, entry["row"])
        if model._base_manager.filter(pk=instance.pk).exists():
            continue
        if restorable(instance):
            lost.append(f"{entry['model']} {instance.pk}")
            continue
        model._base_manager.bulk_create([instance])
    return lost


# --- merge ------------------------------------------------------------------------------------


def _locked_pair(spec: MergeSpec, survivor: Model, duplicate: Model) -> tuple[Any, Any]:
    rows = {c.pk: c for c in spec.model._default_manager.select_for_update().filter(
        pk__in=[survivor.pk, duplicate.pk])}
    if survivor.pk not in rows or duplicate.pk not in rows:
        gone = survivor.pk if survivor.pk not in rows else duplicate.pk
        raise Conflict(str(spec.gone_message) % {"id": gone})
    return rows[survivor.pk], rows[duplicate.pk]


def _check_seen(party: Any, seen: int | None) -> None:
    if seen is not None and seen != party.version:
        raise Conflict(
            _(
                "“%(name)s” was changed since you looked at it (version %(seen)s, now %(now)s). "
                "Reload and compare again."
            )
            % {"name": str(party), "seen": seen, "now": party.version},
            current_version=party.version,
        )


def _planned(plan: list[MergeField], name: str) -> Any:
    return next(item.survivor_value for item in plan if item.name == name)


def would_loop(spec: MergeSpec, *, survivor_pk: int, duplicate_pk: int, start: int | None) -> bool:
    """Would the survivor, linked to ``start``, reach itself by following ``spec.self_link`` once
    every link to the duplicate points at the survivor (as it will after the merge)?"""
    attname = spec.model._meta.get_field(spec.self_link).attname
    seen: set[int] = set()
    node = survivor_pk if start == duplicate_pk else start
    while node is not None and node not in seen:
        if node == survivor_pk:
            return True
        seen.add(node)
        node = spec.model._base_manager.filter(pk=node).values_list(attname, flat=True).first()
        if node == duplicate_pk:
            node = survivor_pk
    return False


def _pair_of(spec: MergeSpec, a: int, b: int) -> Model | None:
    low, high = sorted((a, b))
    first, second = spec.pair_fields
    return spec.pair_model._default_manager.filter(**{first: low, second: high}).first()


def party_merge(
    spec: MergeSpec,
    *,
    actor: User,
    survivor: Any,
    duplicate: Any,
    field_choices: dict[str, str] | None = None,
    survivor_version: int | None = None,
    duplicate_version: int | None = None,
    pair: Any = None,
    context: dict[str, Any] | None = None,
) -> Any:
    """Merge ``duplicate`` into ``survivor`` (see the module docstring); the caller holds the transaction.

    Everything is checked before the first write: the merge right, both change rights, the
    versions the caller saw, the field choices and the self-link loop.
    """
    model = spec.model
    permissions.require_model_perm(actor, model, "merge")
    if survivor.pk == duplicate.pk:
        raise ValidationFailed(str(spec.self_merge_message), field_errors={"duplicate_id": [_("Pick another one.")]})
    permissions.check_write(actor, survivor, "change")
    permissions.check_write(actor, duplicate, "change")
    survivor_seen = survivor.version if survivor_version is None else survivor_version
    duplicate_seen = duplicate.version if duplicate_version is None else duplicate_version
    survivor, duplicate = _locked_pair(spec, survivor, duplicate)
    _check_seen(survivor, survivor_seen)
    _check_seen(duplicate, duplicate_seen)
    plan = merge_plan(spec, survivor=survivor, duplicate=duplicate, field_choices=field_choices)

    before = snapshot(survivor, extra=spec.snapshot_extra(survivor))
    duplicate_before = snapshot(duplicate, extra=spec.snapshot_extra(duplicate))
    duplicate_row = dump(duplicate)
    duplicate_children = spec.dump_children(duplicate)

    # Fields: the plan's choices; the survivor's own link to the duplicate cannot survive.
    field_changes: dict[str, list[Any]] = {}
    custom = dict(survivor.custom or {})
    for item in plan:
        if item.choice != "duplicate" or item.survivor_value == item.duplicate_value:
            continue
        if item.name.startswith("custom."):
            key = item.name.removeprefix("custom.")
            if empty(item.duplicate_value):
                custom.pop(key, None)
            else:
                custom[key] = item.duplicate_value
        else:
            setattr(survivor, model._meta.get_field(item.name).attname, item.duplicate_value)
        field_changes[item.name] = [_jsonable(item.survivor_value), _jsonable(item.duplicate_value)]
    link = model._meta.get_field(spec.self_link).attname
    if getattr(survivor, link) == survivor.pk:
        # The duplicate hung below the survivor: its link cannot be the survivor's own.
        setattr(survivor, link, _planned(plan, spec.self_link))
        field_changes.pop(spec.self_link, None)
    if getattr(survivor, link) == duplicate.pk:
        own = getattr(duplicate, link)
        target = own if own != survivor.pk else None
        field_changes[spec.self_link] = [field_changes.get(spec.self_link, [duplicate.pk])[0], target]
        setattr(survivor, link, target)
    if getattr(survivor, link) is not None and would_loop(
        spec, survivor_pk=survivor.pk, duplicate_pk=duplicate.pk, start=getattr(survivor, link)
    ):
        raise ValidationFailed(
            str(spec.loop_message), field_errors={f"field_choices.{spec.self_link}": [str(spec.loop_field_message)]}
        )
    survivor.custom = custom

    added = spec.add_children(survivor, duplicate)
    repointed, dropped = _repoint(spec, old_pk=duplicate.pk, new_pk=survivor.pk)
    added.update(spec.finish(survivor, duplicate.pk, added))
    versioned_save(survivor, expected_version=survivor.version, fields=list(spec.write_fields))

    pair = pair or _pair_of(spec, survivor.pk, duplicate.pk)
    pair_status = ""
    if pair is not None:
        pair_status = pair.status
        spec.pair_model._default_manager.filter(pk=pair.pk).update(
            status=DuplicateStatus.MERGED, decided_by=actor, decided_at=timezone.now(), updated_at=timezone.now()
        )
    merge = spec.merge_model._default_manager.create(
        survivor=survivor,
        duplicate_id=duplicate.pk,
        duplicate_repr=str(duplicate)[:200],
        duplicate_snapshot={"row": duplicate_row, "children": duplicate_children},
        repointed=repointed,
        dropped=dropped,
        added=added,
        survivor_changes=field_changes,
        context=context or {},
        actor=actor if getattr(actor, "pk", None) else None,
        pair=pair,
        pair_status=pair_status,
    )
    moved = {entry["model"]: len(entry["pks"]) for entry in repointed}
    audit_context = {**(context or {}), "merge_id": merge.pk, "duplicate_id": duplicate.pk, "moved": moved}
    changes = diff(before, snapshot(survivor, extra=spec.snapshot_extra(survivor)))
    changes[spec.audit_key] = [None, f"{duplicate} (#{duplicate.pk})"]
    audit_record(actor=actor, action=AuditAction.MERGE, instance=survivor, changes=changes, context=audit_context)
    audit_record(
        actor=actor,
        action=AuditAction.MERGE,
        instance=duplicate,
        changes={**{k: [v, None] for k, v in duplicate_before.items()}, "merged_into": [None, survivor.pk]},
        context=audit_context,
    )
    duplicate.delete()
    _announce(model, survivor.pk, merge.duplicate_id)
    return merge


def merge_listen(callback: MergeListener) -> None:
    """Call ``callback(model=..., survivor_id=..., duplicate_id=...)`` after every merge and every
    undo, inside its transaction (a derived row must be right when the merge commits, and go
    with it when it rolls back). Idempotent; registered in the listener's ``AppConfig.ready``."""
    if callback not in _listeners:
        _listeners.append(callback)


def _announce(model: type[Model], survivor_id: int, duplicate_id: int) -> None:
    for callback in list(_listeners):
        callback(model=model, survivor_id=survivor_id, duplicate_id=duplicate_id)


def party_merge_get(spec: MergeSpec, *, actor: User, merge_id: Any) -> Any:
    """A merge record if ``actor`` may merge and read its survivor, else ``NotFound``."""
    permissions.require_model_perm(actor, spec.model, "view")
    permissions.require_model_perm(actor, spec.model, "merge")
    try:
        merge = spec.merge_model._default_manager.select_related("survivor").get(pk=merge_id)
    except (spec.merge_model.DoesNotExist, ValueError, TypeError):  # type: ignore[attr-defined]
        merge = None
    if merge is not None:
        survivor = merge.survivor
        allowed = actor.is_administrator if survivor is None else permissions.can_read(actor, survivor)
        if allowed:
            return merge
    raise NotFound(str(spec.not_found_message) % {"id": merge_id})


# --- undo -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UndoReport:
    """Survivor fields an undo left alone because they were changed after the merge."""

    kept: dict[str, dict[str, Any]]
    lost: tuple[str, ...]
    stayed: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {"kept": self.kept, "lost": list(self.lost), "stayed": self.stayed}


def _set_field(party: Any, name: str, value: Any) -> None:
    if name.startswith("custom."):
        key = name.removeprefix("custom.")
        custom = dict(party.custom or {})
        if empty(value):
            custom.pop(key, None)
        else:
            custom[key] = value
        party.custom = custom
        return
    field = party._meta.get_field(name)
    python = None if value is None else field.to_python(value)
    if field.is_relation and python is not None and not field.related_model._base_manager.filter(pk=python).exists():
        python = None
    setattr(party, field.attname, python)


def party_merge_undo(spec: MergeSpec, *, actor: User, merge: Any, context: dict[str, Any] | None = None) -> Any:
    """Undo ``merge`` (see the module docstring); returns the restored duplicate. The caller holds the
    transaction.

    ``merge.undo_report`` then lists the survivor fields that kept a later edit (``kept``:
    ``{field: {"before", "merged", "current"}}``), child rows that could not return (``lost``)
    and re-pointed rows that had moved on and stayed (``stayed``: counts per model).
    """
    model = spec.model
    permissions.require_model_perm(actor, model, "merge")
    merge = spec.merge_model._default_manager.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise MergeAlreadyUndone(_("This merge was undone already."))
    if merge.survivor_id is None:
        raise Conflict(_("The record this merge kept has been deleted since; the merge cannot be undone."))
    survivor = model._default_manager.select_for_update().get(pk=merge.survivor_id)
    permissions.check_write(actor, survivor, "change")
    if model._base_manager.filter(pk=merge.duplicate_id).exists():
        raise Conflict(_("Record %(id)s exists again; the merge cannot be undone.") % {"id": merge.duplicate_id})
    before = snapshot(survivor, extra=spec.snapshot_extra(survivor))

    duplicate = load(model, merge.duplicate_snapshot["row"])
    restorable(duplicate)  # an owner, team, parent or boss deleted since becomes empty
    duplicate.save(force_insert=True)
    lost = spec.restore_children(duplicate, merge.duplicate_snapshot.get("children", {}))
    stayed = _repoint_back(merge_rows=merge.repointed, old_pk=duplicate.pk, new_pk=survivor.pk)
    lost += _restore_rows(merge.dropped)
    spec.after_restore(duplicate)

    spec.remove_added(survivor, merge.added)
    kept: dict[str, dict[str, Any]] = {}
    for name, (old, merged) in merge.survivor_changes.items():
        current = _jsonable(field_value(survivor, name))
        if current == merged:
            _set_field(survivor, name, old)
        else:
            kept[name] = {"before": old, "merged": merged, "current": current}
    spec.undo_finish(survivor, duplicate, merge.added)
    versioned_save(survivor, expected_version=survivor.version, fields=list(spec.write_fields))

    if merge.pair_id is not None:
        spec.pair_model._default_manager.filter(pk=merge.pair_id).update(
            status=merge.pair_status or DuplicateStatus.OPEN, decided_by=None, decided_at=None,
            updated_at=timezone.now(),
        )
    report = UndoReport(kept=kept, lost=tuple(lost), stayed=stayed)
    merge.undone_at = timezone.now()
    merge.undone_by = actor if getattr(actor, "pk", None) else None
    merge.undo_report = report.as_json()
    merge.save(update_fields=["undone_at", "undone_by", "undo_report"])

    audit_context = {**(context or {}), "merge_id": merge.pk, "undo": True, **report.as_json()}
    changes = diff(before, snapshot(survivor, extra=spec.snapshot_extra(survivor)))
    changes[spec.audit_key] = [f"{duplicate} (#{duplicate.pk})", None]
    audit_record(actor=actor, action=AuditAction.RESTORE, instance=survivor, changes=changes, context=audit_context)
    restored = snapshot(duplicate, extra=spec.snapshot_extra(duplicate))
    audit_record(
        actor=actor,
        action=AuditAction.RESTORE,
        instance=duplicate,
        changes={k: [None, v] for k, v in restored.items() if not empty(v)},
        context=audit_context,
    )
    _announce(model, survivor.pk, duplicate.pk)
    duplicate.refresh_from_db()
    return duplicate
