"""The base of every form: WTForms' own messages ("This field is required.", "Not a valid choice.")
come from the portal's catalogue, so they are in the reader's language like every other text
(WTForms ships no Swahili, and one catalogue keeps the wording consistent)."""
from flask_babel import get_translations
from flask_wtf import FlaskForm

from portal.languages import N_


def _plural(singular: str, plural: str) -> None:
    """Marks a singular/plural pair for `make translations-extract` (keyword _plural:1,2)."""


# The messages WTForms gives for the validators and fields the portal uses, for the catalogue.
WTFORMS_MESSAGES = (
    N_("This field is required."), N_("Not a valid choice."), N_("Invalid Choice: could not coerce."),
    N_("Not a valid integer value."), N_("Not a valid decimal value."), N_("Not a valid date value."),
    N_("Not a valid time value."), N_("Number must be at least %(min)s."), N_("Number must be at most %(max)s."),
    N_("Number must be between %(min)s and %(max)s."), N_("Field must be equal to %(other_name)s."),
    N_("Field must be between %(min)d and %(max)d characters long."),
)
_plural("Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.")
_plural("Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long.")


class _CatalogueTexts:
    """What WTForms asks for its messages: the page's catalogue, unformatted (WTForms fills in
    %(max)d and the like itself)."""

    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return _CatalogueTexts()
