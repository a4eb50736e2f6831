"""The referendum's secret ballot: who took part is stored apart from what was chosen, with nothing joining them."""

import base64
import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import DatabaseError, models

from participation import services
from participation.models import AuditEntry, Option, ReferendumBallot, ReferendumParticipation, new_receipt_code
from tests.factories import VerifiedUserFactory

from .conftest import url
from .factories import make_referendum

pytestmark = pytest.mark.django_db

BASE32 = set(base64.b32encode(bytes(range(256))).decode().rstrip("="))


def leads_to(field):
    return getattr(field, "related_model", None)


def test_the_ballot_model_has_no_way_back_to_the_voter():
    """Every field and relation of ReferendumBallot, forward and reverse, checked against what could identify a voter."""
    user_model = get_user_model()
    fields = ReferendumBallot._meta.get_fields(include_hidden=True)
    assert fields, "no fields found: the inspection itself is broken"
    for field in fields:
        assert leads_to(field) is not user_model, f"{field.name} leads to the user model"
        assert leads_to(field) is not ReferendumParticipation, f"{field.name} leads to ReferendumParticipation"
        assert not isinstance(field, (models.DateTimeField, models.DateField, models.TimeField)), (
            f"{field.name} is a time"
        )
        assert not isinstance(field, models.fields.AutoFieldMixin), f"{field.name} is sequential"
    pk = ReferendumBallot._meta.pk
    assert isinstance(pk, models.UUIDField)
    assert pk.default is uuid.uuid4
    assert {f.name for f in fields} <= {"id", "item", "option", "receipt", "segment"}


def test_what_the_ballot_points_to_does_not_lead_to_a_voter_either():
    """The option (and its question) belong to the item, never to a person."""
    user_model = get_user_model()
    for model in (Option, Option._meta.get_field("question").related_model):
        for field in model._meta.get_fields():
            if field.many_to_one or field.one_to_one:
                assert leads_to(field) is not user_model, f"{model.__name__}.{field.name} leads to the user model"


def test_the_participation_record_keeps_who_and_the_day_but_never_the_choice():
    fields = {f.name: f for f in ReferendumParticipation._meta.get_fields()}
    assert type(fields["voted_on"]) is models.DateField
    assert not any(isinstance(f, models.DateTimeField) for f in fields.values())
    related = {leads_to(f) for f in fields.values()}
    assert ReferendumBallot not in related
    assert Option not in related
    assert not {"option", "receipt", "choice", "ballot"} & set(fields)


def test_a_ballots_values_do_not_contain_the_voter(citizen):
    referendum = make_referendum()
    receipt = services.cast_referendum_ballot(citizen, referendum, "abstain")
    row = ReferendumBallot.objects.filter(receipt=receipt).values().get()
    assert set(row) == {"id", "item_id", "option_id", "receipt", "segment"}
    assert citizen.pk not in {v for k, v in row.items() if k != "item_id"}
    assert uuid.UUID(str(row["id"])).version == 4


def test_ballots_are_not_kept_in_the_order_they_were_cast():
    referendum = make_referendum()
    cast = [services.cast_referendum_ballot(VerifiedUserFactory(), referendum, "abstain") for _ in range(12)]
    assert list(ReferendumBallot.objects.values_list("receipt", flat=True)) == sorted(cast)
    assert ReferendumBallot._meta.ordering == ["receipt"]


def test_who_and_what_are_written_together_or_not_at_all(citizen, monkeypatch):
    referendum = make_referendum()

    def broken(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(ReferendumBallot.objects, "create", broken)
    with pytest.raises(DatabaseError):
        services.cast_referendum_ballot(citizen, referendum, "abstain")
    assert not ReferendumParticipation.objects.exists()
    monkeypatch.undo()
    services.cast_referendum_ballot(citizen, referendum, "abstain")
    assert ReferendumParticipation.objects.count() == ReferendumBallot.objects.count() == 1


def test_voting_leaves_no_trace_of_the_choice_in_the_audit_trail(citizen):
    referendum = make_referendum()
    before = AuditEntry.objects.count()
    receipt = services.cast_referendum_ballot(citizen, referendum, referendum.questions.get().options.first().pk)
    assert AuditEntry.objects.count() == before
    assert not any(receipt in str(entry.details) for entry in AuditEntry.objects.all())


def test_receipts_are_random_base32_of_at_least_128_bits():
    """The house style (STYLE.md, "Secret ballot"): "The voter's receipt is random (128 bits or more)"."""
    codes = {new_receipt_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{1,4})+", code), code
        raw = code.replace("-", "")
        assert set(raw) <= BASE32
    assert min(len(code.replace("-", "")) for code in codes) * 5 >= 128
    assert max(len(code) for code in codes) <= ReferendumBallot._meta.get_field("receipt").max_length


def test_the_receipt_is_shown_once_then_forgotten_by_the_portal(client, lang, citizen):
    referendum = make_referendum()
    client.force_login(citizen)
    client.post(url(lang, "referendum_detail", slug=referendum.slug), {"choice": "abstain"})
    receipt = ReferendumBallot.objects.get().receipt
    assert receipt in client.get(url(lang, "referendum_receipt", slug=referendum.slug)).content.decode()
    assert client.get(url(lang, "referendum_receipt", slug=referendum.slug)).status_code == 302
    for session in Session.objects.all():
        assert receipt not in str(session.get_decoded())
