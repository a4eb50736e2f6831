"""The seed's own Arabic stays verbatim where it is the seed's: the audience picker, the about and policy pages.

The text is a copy of the shared seed (tests/seed_text_ar.py); each line must appear on its page, in the
seed's order, word for word (only runs of white space are read as one space, as a browser shows them).
"""

import pytest

from tests.seed_text_ar import SEED_AR
from tests.test_i18n import visible_text

pytestmark = pytest.mark.django_db


def missing_in_order(lines, text):
    """The lines not found in text, each searched after the previous one was found."""
    missing, position = [], 0
    for line in lines:
        found = text.find(line, position)
        if found < 0:
            missing.append(line)
        else:
            position = found + len(line)
    return missing


@pytest.mark.parametrize("path", SEED_AR)
def test_the_seed_wording_is_on_its_page_verbatim(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert missing_in_order(SEED_AR[path], visible_text(response.content.decode())) == []


def test_the_seed_spelling_is_kept_not_corrected(client):
    """"استراتجية" is how the seed spells it in its first sentence; a well-meant correction is a change."""
    text = visible_text(client.get("/ar/about/").content.decode())
    assert "تهدف استراتجية حكومة قطر الوطنية 2020" in text


def test_the_check_finds_a_changed_word():
    assert missing_in_order(["زائر", "طالب زائر"], "زائر سائح زائر") == ["طالب زائر"]
    assert missing_in_order(["مقيم", "زائر"], "زائر ثم مقيم") == ["زائر"]
