"""The referendum's secret ballot: who took part is stored apart from what was chosen, with nothing joining them."""

import base64
import logging
import re
import secrets
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import DatabaseError, connection, models

from accounts.models import Segment
from participation.ballot_box import BallotBoxError, OpenedBallot
from participation.models import (
    AuditEntry,
    Option,
    ReferendumBallot,
    ReferendumParticipation,
    Result,
    SealedBallot,
    new_receipt_code,
)
from participation.services import counting, voting
from tests.builders.items import close, make_referendum, sealed_ballots
from tests.factories import VerifiedUserFactory

from .conftest import url

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
    assert {f.name for f in fields} <= {"id", "item", "option", "receipt"}


def test_the_sealed_ballot_model_has_no_way_back_to_the_voter_either():
    user_model = get_user_model()
    fields = SealedBallot._meta.get_fields(include_hidden=True)
    assert {f.name for f in fields} == {"id", "item", "nonce", "ciphertext"}
    for field in fields:
        assert leads_to(field) not in (user_model, ReferendumParticipation)
        assert not isinstance(field, (models.DateTimeField, models.DateField, models.AutoField, models.BigAutoField))
    assert SealedBallot._meta.pk.default is uuid.uuid4


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
    receipt = voting.cast_referendum_ballot(citizen, referendum, "abstain")
    counting.tally_and_publish(close(referendum).pk)
    row = ReferendumBallot.objects.filter(receipt=receipt).values().get()
    assert set(row) == {"id", "item_id", "option_id", "receipt"}
    assert citizen.pk not in {v for k, v in row.items() if k != "item_id"}
    assert uuid.UUID(str(row["id"])).version == 4


def test_the_sealed_box_holds_nothing_readable(citizen):
    """Before the tally the vote is one ciphertext: no option id, receipt, segment or voter in the clear."""
    referendum = make_referendum()
    option = referendum.questions.get().options.first()
    receipt = voting.cast_referendum_ballot(citizen, referendum, option.pk)
    assert not ReferendumBallot.objects.exists()
    row = SealedBallot.objects.values().get()
    assert set(row) == {"id", "item_id", "nonce", "ciphertext"}
    raw = bytes(row["ciphertext"]) + bytes(row["nonce"])
    for clear in (receipt, receipt.replace("-", ""), citizen.segment, f"{option.pk:020d}", citizen.email):
        assert clear.encode() not in raw
    assert uuid.UUID(str(row["id"])).version == 4
    assert sealed_ballots(referendum)[0] == OpenedBallot(option.pk, receipt, citizen.segment)


def test_every_sealed_ballot_has_the_same_length_whatever_the_choice_and_the_voter():
    """A blank vote, option 1 or option 2, by a citizen or a resident: the size of the row says nothing."""
    referendum = make_referendum(for_visitors=True)
    options = list(referendum.questions.get().options.all())
    for segment in (Segment.CITIZEN, Segment.RESIDENT):
        for choice in ["abstain", *(o.pk for o in options)]:
            voting.cast_referendum_ballot(VerifiedUserFactory(segment=segment), referendum, choice)
    lengths = {len(bytes(c)) for c in SealedBallot.objects.values_list("ciphertext", flat=True)}
    assert lengths == {80}


def test_a_sealed_ballot_moved_to_another_referendum_does_not_open(citizen):
    """The item's id is bound into the ciphertext: an insider cannot stuff one box with another's ballots."""
    first, second = make_referendum(), make_referendum()
    voting.cast_referendum_ballot(citizen, first, "abstain")
    SealedBallot.objects.update(item=second)
    with pytest.raises(BallotBoxError):
        sealed_ballots(second)


def test_a_box_sealed_under_another_key_does_not_open(citizen, settings):
    referendum = make_referendum()
    voting.cast_referendum_ballot(citizen, referendum, "abstain")
    settings.BALLOT_BOX_KEY = bytes(32)
    with pytest.raises(BallotBoxError):
        counting.tally_and_publish(close(referendum).pk)
    assert not ReferendumBallot.objects.exists()  # nothing half-opened
    assert SealedBallot.objects.count() == 1


def test_the_tally_opens_the_box_and_destroys_the_sealed_rows():
    referendum = make_referendum()
    yes, no = referendum.questions.get().options.all()[:2]
    receipts = {voting.cast_referendum_ballot(VerifiedUserFactory(), referendum, c.pk): c.pk for c in [yes, yes, no]}
    counting.tally_and_publish(close(referendum).pk)
    assert not SealedBallot.objects.exists()
    assert dict(ReferendumBallot.objects.values_list("receipt", "option_id")) == receipts
    votes = [o["votes"] for o in Result.objects.get(item=referendum).counts["questions"][0]["options"]]
    assert votes[:2] == [2, 1]


def test_ballots_are_listed_by_receipt_not_in_the_order_they_were_cast():
    referendum = make_referendum()
    cast = [voting.cast_referendum_ballot(VerifiedUserFactory(), referendum, "abstain") for _ in range(12)]
    counting.tally_and_publish(close(referendum).pk)
    assert list(ReferendumBallot.objects.values_list("receipt", flat=True)) == sorted(cast)
    assert ReferendumBallot._meta.ordering == ["receipt"]


def physical_receipt_order(item):
    """The receipts of the item's plaintext ballots in the order the rows lie in the table (ctid or rowid)."""
    table = ReferendumBallot._meta.db_table
    position = "ctid" if connection.vendor == "postgresql" else "rowid"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT receipt FROM {table} WHERE item_id = %s ORDER BY {position}", [item.pk])  # noqa: S608
        return [receipt for (receipt,) in cursor.fetchall()]


def test_the_tally_writes_the_ballots_in_receipt_order_never_in_voting_order(monkeypatch):
    """The plaintext rows lie in the byte order of their random receipts, whatever order people voted in.

    The receipts here are handed out in descending order, so that the voting order is the reverse
    of the receipts' order: writing the rows in the sealed (voting) order fails this test.
    """
    referendum = make_referendum()
    handed_out = iter(sorted((new_receipt_code() for _ in range(6)), reverse=True))
    monkeypatch.setattr(voting, "new_receipt_code", lambda: next(handed_out))
    cast = [voting.cast_referendum_ballot(VerifiedUserFactory(), referendum, "abstain") for _ in range(6)]
    assert cast == sorted(cast, reverse=True)
    counting.tally_and_publish(close(referendum).pk)
    assert physical_receipt_order(referendum) == sorted(cast)


def test_receipts_come_from_the_system_random_source(monkeypatch):
    """The receipts' order is the written order's shuffle: they must be the operating system's random bits."""
    drawn = []

    def token_bytes(n):
        drawn.append(n)
        return bytes(range(n))

    monkeypatch.setattr(secrets, "token_bytes", token_bytes)
    assert new_receipt_code().replace("-", "") == base64.b32encode(bytes(range(16))).decode().rstrip("=")
    assert drawn == [16]


def test_who_and_what_are_written_together_or_not_at_all(citizen, monkeypatch):
    referendum = make_referendum()

    def broken(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(SealedBallot.objects, "create", broken)
    with pytest.raises(DatabaseError):
        voting.cast_referendum_ballot(citizen, referendum, "abstain")
    assert not ReferendumParticipation.objects.exists()
    monkeypatch.undo()
    voting.cast_referendum_ballot(citizen, referendum, "abstain")
    assert ReferendumParticipation.objects.count() == SealedBallot.objects.count() == 1


def test_voting_leaves_no_trace_of_the_choice_in_the_audit_trail(citizen):
    referendum = make_referendum()
    before = AuditEntry.objects.count()
    receipt = voting.cast_referendum_ballot(citizen, referendum, referendum.questions.get().options.first().pk)
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


def test_the_receipt_is_shown_once_and_never_stored_with_the_person(client, lang, citizen, caplog):
    referendum = make_referendum()
    client.force_login(citizen)
    with caplog.at_level(logging.DEBUG):
        response = client.post(url(lang, "referendum_detail", slug=referendum.slug), {"choice": "abstain"})
    receipt = sealed_ballots(referendum)[0].receipt
    assert receipt in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    for session in Session.objects.all():
        assert receipt not in str(session.get_decoded())
    assert receipt not in caplog.text
    assert receipt not in str(response.cookies)  # nor in the messages cookie
