"""Sign-up and profile forms: who the person is and what describes them."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from participation.services.verification import give_identity_number
from participation.validators import validate_single_line

from .models import Persona, Segment, User, persona_error, personas_allowed, validate_identity_number

# People type Qatar IDs on Arabic keyboards too: ٢٨٤٦٣٤٠٠٠٠١ is 28463400001.
ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


class IdentityFieldsMixin:
    """Fields and checks shared by sign-up and the profile page.

    The database refuses a persona outside the segment too (check constraints
    on User); this gives people a clear message before it comes to that.
    """

    def add_identity_fields(self):
        self.fields["full_name"] = forms.CharField(
            label=_("Full name"),
            max_length=150,
            widget=forms.TextInput(attrs={"autocomplete": "name"}),
            validators=[validate_single_line],
        )
        self.fields["segment"] = forms.ChoiceField(
            label=_("I am a"), choices=Segment.choices, widget=forms.RadioSelect
        )
        self.fields["personas"] = forms.MultipleChoiceField(
            label=_("What describes you (optional)"),
            choices=Persona.choices,
            required=False,
            widget=forms.CheckboxSelectMultiple,
            help_text=_(
                "Visitors: student, tourist, business owner. Citizens: parent, business owner, employee. "
                "Residents: parent, employee."
            ),
        )
        self.fields["identity_number"] = forms.CharField(
            label=_("Identity number"),
            max_length=24,  # room for spaces, removed in clean_identity_number
            help_text=_("Qatar ID (11 digits) for citizens and residents; passport number for visitors."),
            widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        )

    def clean_identity_number(self):
        """Drop spaces, read Arabic-Indic digits as ASCII, capitalise passport letters."""
        raw = self.cleaned_data["identity_number"].translate(ARABIC_DIGITS)
        return "".join(raw.split()).upper()

    def clean(self):
        cleaned = super().clean()
        segment = cleaned.get("segment")
        personas = [Persona(p) for p in cleaned.get("personas") or []]
        if segment:
            outside = [p for p in personas if p not in personas_allowed(segment)]
            if outside:
                self.add_error("personas", persona_error(segment, outside))
            number = cleaned.get("identity_number")
            if number:
                # Never "this number is registered": at sign-up and on the profile alike, a number another
                # account holds is saved as a case for staff (accounts/claims.py), so the form tells nobody.
                try:
                    validate_identity_number(segment, number)
                except ValidationError as exc:
                    self.add_error("identity_number", exc)
        return cleaned


class SignupForm(IdentityFieldsMixin, forms.Form):
    """Extra sign-up fields; allauth adds e-mail and password."""

    field_order = ["full_name", "email", "segment", "personas", "identity_number", "password1", "password2"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.from_national_identity:
            # allauth's sign-up after the national digital identity (only when it gave no usable e-mail
            # address): the name, segment and number come from the signed token (national_identity.py).
            return
        self.add_identity_fields()
        self.fields["notify_new_items"] = forms.BooleanField(
            label=_("E-mail me when a consultation, poll or referendum opens for me"), required=False
        )

    @property
    def from_national_identity(self):
        return getattr(self, "sociallogin", None) is not None

    def signup(self, request, user):
        data = self.cleaned_data
        if self.from_national_identity:
            user.preferred_language = (get_language() or "ar")[:2]
            user.save()
            return
        user.full_name = data["full_name"]
        user.segment = data["segment"]
        user.personas = data.get("personas") or []
        user.notify_new_items = data.get("notify_new_items", False)
        user.preferred_language = (get_language() or "ar")[:2]
        # Saves the user, with the number, or without it and with a case for staff if another account holds it.
        give_identity_number(user, data["identity_number"])


class ProfileForm(IdentityFieldsMixin, forms.ModelForm):
    class Meta:
        model = User
        fields = ["full_name", "segment", "identity_number", "preferred_language", "notify_new_items", "notify_results"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_identity_fields()
        self.fields["personas"].initial = [p.value for p in self.instance.personas]
        self.order_fields(
            ["full_name", "segment", "personas", "identity_number", "preferred_language", "notify_new_items", "notify_results"]
        )

    def _identity_changed(self):
        """Compare cleaned values with what was stored: retyping the same number in other case or spacing is no change."""
        return any(self.initial.get(name) != self.cleaned_data.get(name) for name in ("segment", "identity_number"))

    def _get_validation_exclusions(self):
        # The number's uniqueness is no form error (it would say who has an account): save() opens a case.
        # Its format is checked in clean(); the database still holds the unique constraint.
        exclude = super()._get_validation_exclusions()
        exclude.add("identity_number")
        return exclude

    def save(self, commit=True):
        user = super().save(commit=False)
        user.personas = self.cleaned_data.get("personas") or []
        changed = self._identity_changed()
        if changed:
            user.reset_verification()
        if commit:
            if changed and user.identity_number:
                # Saved with the number, or without it and with a case for staff if another account holds it.
                give_identity_number(user, user.identity_number)
            else:
                user.save()
        return user
