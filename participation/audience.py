"""The home page's "Who are you looking for services for?" choice, kept in the session."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from accounts.models import PERSONAS_BY_SEGMENT, Persona, Segment

SESSION_KEY = "audience"

# The seed's wording: "طالب زائر", "ولي أمر مواطن" ... one label per pair.
AUDIENCE_LABELS = {
    (Segment.VISITOR, Persona.STUDENT): _("Visiting student"),
    (Segment.VISITOR, Persona.TOURIST): _("Visiting tourist"),
    (Segment.VISITOR, Persona.BUSINESS_OWNER): _("Visiting business owner"),
    (Segment.CITIZEN, Persona.PARENT): _("Citizen parent"),
    (Segment.CITIZEN, Persona.BUSINESS_OWNER): _("Citizen business owner"),
    (Segment.CITIZEN, Persona.EMPLOYEE): _("Citizen employee"),
    (Segment.RESIDENT, Persona.PARENT): _("Resident parent"),
    (Segment.RESIDENT, Persona.EMPLOYEE): _("Resident employee"),
}


@dataclass(frozen=True)
class Audience:
    segment: Segment
    persona: Persona | None = None

    @classmethod
    def parse(cls, segment, persona=None):
        """Build an Audience from untrusted strings; None if they do not fit the picker."""
        try:
            segment = Segment(segment)
            persona = Persona(persona) if persona else None
        except ValueError:
            return None
        if persona is not None and persona not in PERSONAS_BY_SEGMENT[segment]:
            return None
        return cls(segment, persona)

    @property
    def label(self):
        if self.persona is None:
            return self.segment.label
        return AUDIENCE_LABELS[(self.segment, self.persona)]

    def as_query(self):
        query = {"segment": self.segment.value}
        if self.persona:
            query["persona"] = self.persona.value
        return query


def picker_groups():
    """The picker's three groups with their personas, in the seed's order."""
    return [
        {
            "segment": segment,
            "audiences": [Audience(segment, persona) for persona in PERSONAS_BY_SEGMENT[segment]],
        }
        for segment in (Segment.VISITOR, Segment.CITIZEN, Segment.RESIDENT)
    ]


def remember(session, audience):
    session[SESSION_KEY] = audience.as_query() if audience else None


def remembered(session):
    data = session.get(SESSION_KEY) or {}
    return Audience.parse(data.get("segment"), data.get("persona")) if data else None
