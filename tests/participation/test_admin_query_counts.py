"""The admin's item lists and the permission checks of its actions cost a fixed number of SQL queries.

Each is measured with one poll and with twenty, against the same count: one query per row (as the
membership check in permissions.py once made per object, for every row an action was asked about)
would break it.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from participation import permissions
from participation.models import Item, State
from tests.builders.items import make_entity, make_poll
from tests.builders.users import AUDITORS, MINISTRY_ADMINS, make_staff

from .conftest import admin_url, as_user

pytestmark = pytest.mark.django_db


def queries_for_list(client, user, polls, lang):
    entity = make_entity()
    for _number in range(polls):
        make_poll(entity=entity, state=State.DRAFT)
    user = make_staff(MINISTRY_ADMINS, entity) if user == "admin" else make_staff(AUDITORS)
    as_user(client, user, lang)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(admin_url("poll_changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= polls  # an auditor also sees the other ministries' polls
    return len(queries)


@pytest.mark.parametrize("lang", ["ar", "en"])
@pytest.mark.parametrize("who", ["admin", "auditor"])
def test_the_poll_list_costs_the_same_for_one_poll_and_twenty(client, who, lang):
    one = queries_for_list(client, who, 1, lang)
    client.logout()
    twenty = queries_for_list(client, who, 20, lang)
    assert twenty == one


@pytest.mark.parametrize("polls", [1, 20])
def test_asking_about_every_chosen_row_reads_the_ministries_once(polls, django_assert_num_queries):
    """What an admin action does before acting (admin.allowed_and_refused): one check per chosen item."""
    entity = make_entity()
    for _number in range(polls):
        make_poll(entity=entity, state=State.DRAFT)
    admin = make_staff(MINISTRY_ADMINS, entity)
    items = list(Item.objects.select_related("entity"))
    permissions.allows(admin, "participation.view_item", items[0])  # the role and the ministries, read once
    with django_assert_num_queries(0):
        answers = [permissions.allows(admin, "participation.schedule_item", item) for item in items]
    assert answers == [True] * polls
