"""The position check: was the phone in the room, given what it says about its own error?

A phone reports a position and its accuracy: the radius in metres of a circle that holds
its true position with 95% confidence (the Geolocation API's `coords.accuracy`). Indoors a
GPS fix drifts about 12 m and Wi-Fi positioning errs by about 74 m at the median
(Zandbergen 2009), so a fixed circle that throws the error away turns away students who
are in the room. The decision, for `distance` from the session's point:

    distance ≤ radius, accuracy known and ≤ max_accuracy   INSIDE     recorded
    distance ≤ radius, accuracy unknown or > max_accuracy  UNCERTAIN  recorded, flagged
    distance − accuracy ≤ radius, accuracy ≤ max_accuracy  UNCERTAIN  recorded, flagged
    distance − accuracy ≤ radius, accuracy > max_accuracy  TOO_ROUGH  refused: get a better fix
    otherwise                                              TOO_FAR    refused

A missing accuracy is unknown, never zero: such a fix is never INSIDE by default (a coarse
network position that lands in the room, say from a campus VPN, must not pass unseen),
and it gets no benefit of the doubt beyond the radius either. A flagged confirmation is
for the lecturer to accept or reject, as one made without the student's card.
"""
from enum import StrEnum

from portal.languages import N_, english


class Verdict(StrEnum):
    INSIDE = "inside"
    UNCERTAIN = "uncertain"
    TOO_ROUGH = "too_rough"
    TOO_FAR = "too_far"


def judge(distance: float, accuracy: float | None, radius: float, max_accuracy: float) -> Verdict:
    """The verdict on a phone `distance` metres from the point, known to ±`accuracy` metres
    (None: not reported)."""
    precise = accuracy is not None and accuracy <= max_accuracy
    if distance <= radius:
        return Verdict.INSIDE if precise else Verdict.UNCERTAIN
    if accuracy is not None and distance - accuracy <= radius:  # written so that NaN fails every test
        return Verdict.UNCERTAIN if precise else Verdict.TOO_ROUGH
    return Verdict.TOO_FAR


def uncertainty_words(distance: float | None, accuracy: float | None, say=english) -> str:
    """'position uncertain (44 m ± 35 m)', as the lecturer's review list (`say`: gettext, in the
    page's language) and the CSV (in English) say it."""
    if distance is None:
        return say(N_("position uncertain"))
    if accuracy is None:
        return say(N_("position uncertain (%(distance)s m accuracy unknown)"), distance=round(distance))
    return say(N_("position uncertain (%(distance)s m ± %(accuracy)s m)"), distance=round(distance),
               accuracy=round(accuracy))
