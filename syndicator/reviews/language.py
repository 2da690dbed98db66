"""A review's language: the channel's own field when it gives one, otherwise detected offline.

The channel's field is trusted and only normalized (``fr-FR``, ``FR``, ``fra`` and ``French``
are all ``fr``). Without one, the text is identified among the languages the analytics team
reads (:data:`DETECTED`: ar, fr, en, es, de) with py3langid's packaged model, with two rules
that keep a guess from passing for a fact (docs/reviews.md, "Languages"):

* a text is ``other`` when the unrestricted model (140 languages) is fairly sure it is in a
  language outside that set (Italian, Turkish, Persian ...): restricted to five languages, a
  classifier would call Turkish German with high confidence;
* a text is ``None`` (unknown) when it holds fewer than :data:`MIN_LETTERS` letters ("Ok",
  "A+++", an emoji), or when the restricted model is not confident enough: at least
  :data:`AGREED_CONFIDENCE` when the unrestricted model's best guess is the same language, at
  least :data:`ALONE_CONFIDENCE` when it is not ("Parfait", "Merci", "Bzaf zwin").

The model is loaded once per process, on first use (about a second), and shared by threads.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from syndicator.domain.languages import is_language

__all__ = [
    "AGREED_CONFIDENCE",
    "ALONE_CONFIDENCE",
    "DETECTED",
    "MIN_LETTERS",
    "OTHER",
    "OTHER_CONFIDENCE",
    "Detection",
    "LanguageSource",
    "detect_language",
    "normalize_language",
    "review_language",
]

DETECTED: Final = ("ar", "fr", "en", "es", "de")
OTHER: Final = "other"
MIN_LETTERS: Final = 3
AGREED_CONFIDENCE: Final = 0.6
ALONE_CONFIDENCE: Final = 0.95
OTHER_CONFIDENCE: Final = 0.5
_MAX_CHARS: Final = 2000  # enough to tell; keeps a very long review cheap

# Labels of the unrestricted model that count as one of ours (Moroccan and Egyptian Arabic
# are Arabic to the analytics team) or as no language at all.
_FAMILY: Final = {"ary": "ar", "arz": "ar"}
_NO_LANGUAGE: Final = frozenset({"zxx"})

# ISO 639-2/3 codes and names a channel may send instead of an ISO 639-1 code.
_ALIASES: Final = {
    "ara": "ar",
    "arb": "ar",
    "ary": "ar",
    "arz": "ar",
    "arabic": "ar",
    "العربية": "ar",
    "fra": "fr",
    "fre": "fr",
    "french": "fr",
    "français": "fr",
    "francais": "fr",
    "eng": "en",
    "english": "en",
    "spa": "es",
    "spanish": "es",
    "español": "es",
    "deu": "de",
    "ger": "de",
    "german": "de",
    "deutsch": "de",
}


class LanguageSource(StrEnum):
    CHANNEL = "channel"  # the channel's own field, normalized
    DETECTED = "detected"  # worked out from the text here


@dataclass(frozen=True, slots=True)
class Detection:
    """A review's language and where it came from; both None: no field and no telling."""

    language: str | None
    source: LanguageSource | None


def normalize_language(value: object) -> str | None:
    """A channel's language field as an ISO 639-1 code (``en-US`` -> ``en``, ``fra`` ->
    ``fr``), or one of the ISO 639-3 codes Moroccan cooperatives need that have none (zgh,
    tzm, shi, rif); None when it names no language we know (then the text is detected)."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if not text:
        return None
    if text in _ALIASES:
        return _ALIASES[text]
    primary = text.replace("_", "-").split("-", 1)[0]
    primary = _ALIASES.get(primary, primary)
    return primary if is_language(primary) else None


class _Detector:
    """py3langid's model twice over the same arrays: all its languages, and ours only."""

    def __init__(self) -> None:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        self.full: Any = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        f = self.full
        self.ours: Any = LanguageIdentifier(
            f.nb_ptc, f.nb_pc, f.nb_classes, f.tk_nextmove, f.tk_output,
            norm_probs=True, tk_row=f.tk_row,
        )  # fmt: skip
        self.ours.set_languages(list(DETECTED))

    def detect(self, text: str) -> str | None:
        sample = text[:_MAX_CHARS]
        best, p_best = self.full.classify(sample)
        best = _FAMILY.get(best, best)
        if best in _NO_LANGUAGE:
            return None
        if best not in DETECTED and p_best >= OTHER_CONFIDENCE:
            return OTHER
        ours, p_ours = self.ours.classify(sample)
        floor = AGREED_CONFIDENCE if ours == best else ALONE_CONFIDENCE
        return str(ours) if p_ours >= floor else None


_detector: _Detector | None = None
_lock = threading.Lock()


def _get_detector() -> _Detector:
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                _detector = _Detector()
    return _detector


def detect_language(text: str | None) -> str | None:
    """One of :data:`DETECTED`, ``"other"``, or None when the text is too short or the
    model not sure enough to say (see the module docstring)."""
    if text is None or sum(1 for c in text if c.isalpha()) < MIN_LETTERS:
        return None
    return _get_detector().detect(text)


def review_language(channel_value: object, text: str | None) -> Detection:
    """The language to store for a review: the channel's field when it names a language,
    else the text's, detected; with where it came from."""
    given = normalize_language(channel_value)
    if given is not None:
        return Detection(given, LanguageSource.CHANNEL)
    found = detect_language(text)
    return Detection(found, None if found is None else LanguageSource.DETECTED)
