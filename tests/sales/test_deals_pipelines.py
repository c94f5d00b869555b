"""Pipeline set-up pages: only who may change pipelines (managers, administrators) gets them;
create, rename, default, (de)activate, stage add/edit/reorder, and the refusal to delete a stage in use."""

from __future__ import annotations

import pytest
from tests.conftest import client_for

from rapport.sales.models import Pipeline, Stage
from rapport.sales.services import opportunity_create

pytestmark = pytest.mark.django_db


def test_permission_matrix(rep, manager, admin_user, analyst, pipeline) -> None:
    for url in ("/pipelines/", f"/pipelines/{pipeline.pk}/"):
        assert client_for(None).get(url).status_code == 302
        assert client_for(rep).get(url).status_code == 403
        assert client_for(analyst).get(url).status_code == 403
        assert client_for(manager).get(url).status_code == 200
        assert client_for(admin_user).get(url).status_code == 200
    assert client_for(rep).post("/pipelines/", {"action": "create", "name": "Mine"}).status_code == 403
    assert client_for(rep).post(f"/pipelines/{pipeline.pk}/", {"action": "add", "name": "X",
                                                               "probability": "5"}).status_code == 403
    assert not Pipeline.objects.filter(name="Mine").exists() and not Stage.objects.filter(name="X").exists()
    assert client_for(manager).get("/pipelines/999999/").status_code == 404


def test_create_rename_default_and_deactivate(manager, pipeline) -> None:
    client = client_for(manager)
    response = client.post("/pipelines/", {"action": "create", "name": "<b>Renewals</b>"})
    created = Pipeline.objects.get(name="<b>Renewals</b>")
    assert response["Location"] == f"/pipelines/{created.pk}/"
    assert [s.kind for s in created.stages.order_by("position")] == ["open", "won", "lost"]
    page = client.get("/pipelines/").content.decode()
    assert "&lt;b&gt;Renewals&lt;/b&gt;" in page and "<b>Renewals</b>" not in page
    client.post("/pipelines/", {"action": "rename", "pipeline_id": created.pk, "name": "Renewals",
                                "version": created.version})
    created.refresh_from_db()
    assert created.name == "Renewals"
    stale = client.post("/pipelines/", {"action": "rename", "pipeline_id": created.pk, "name": "Old",
                                        "version": 1}, follow=True)
    assert b"changed since version 1" in stale.content and Pipeline.objects.get(pk=created.pk).name == "Renewals"
    client.post("/pipelines/", {"action": "default", "pipeline_id": created.pk})
    assert Pipeline.objects.get(is_default=True) == created
    client.post("/pipelines/", {"action": "deactivate", "pipeline_id": pipeline.pk})
    assert Pipeline.objects.get(pk=pipeline.pk).is_active is False
    duplicate = client.post("/pipelines/", {"action": "create", "name": "Renewals"}, follow=True)
    assert b"msg error" in duplicate.content and Pipeline.objects.filter(name="Renewals").count() == 1


def test_stages_add_edit_reorder_delete(manager, rep, customer, pipeline, stages) -> None:
    client = client_for(manager)
    client.post(f"/pipelines/{pipeline.pk}/", {"action": "add", "name": "Negotiation", "probability": "80",
                                              "kind": "open", "forecast_category": "commit"})
    added = Stage.objects.get(pipeline=pipeline, name="Negotiation")
    assert added.position == 10 and added.probability == 80
    client.post(f"/pipelines/{pipeline.pk}/", {"action": "up", "stage_id": added.pk})
    order = list(pipeline.stages.order_by("position").values_list("name", flat=True))
    assert order[-2:] == ["Negotiation", "Lost"] and len(order) == 11
    client.post(f"/pipelines/{pipeline.pk}/", {"action": "edit", "stage_id": added.pk, "name": "Negotiate",
                                              "probability": "75", "kind": "open", "forecast_category": "commit",
                                              "is_active": "on"})
    added.refresh_from_db()
    assert (added.name, added.probability) == ("Negotiate", 75)
    bad = client.post(f"/pipelines/{pipeline.pk}/", {"action": "edit", "stage_id": stages["lost"].pk,
                                                    "name": "Lost", "probability": "50", "kind": "lost",
                                                    "forecast_category": "omitted", "is_active": "on"}, follow=True)
    assert b"msg error" in bad.content and Stage.objects.get(pk=stages["lost"].pk).probability == 0
    # a stage a deal is in cannot be deleted: the service's reason is shown, the stage stays
    opportunity_create(actor=rep, account=customer, name="Deal")
    refused = client.post(f"/pipelines/{pipeline.pk}/", {"action": "delete", "stage_id": stages["generated"].pk},
                          follow=True)
    assert b"is in use" in refused.content and Stage.objects.filter(pk=stages["generated"].pk).exists()
    client.post(f"/pipelines/{pipeline.pk}/", {"action": "delete", "stage_id": added.pk})
    assert not Stage.objects.filter(pk=added.pk).exists()
    other = Pipeline.objects.create(name="Other")
    foreign = Stage.objects.create(pipeline=other, name="Elsewhere", position=0, probability=5)
    wrong = client.post(f"/pipelines/{pipeline.pk}/", {"action": "delete", "stage_id": foreign.pk}, follow=True)
    assert b"No such stage" in wrong.content and Stage.objects.filter(pk=foreign.pk).exists()
