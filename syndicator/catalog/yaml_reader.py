"""Catalog rows from a YAML file.

The YAML shape (``products:`` with nested ``title:``, ``variants:``, ``channels:`` ...) is
flattened into the same :class:`~syndicator.catalog.rules.Row` objects the CSV reader makes,
so that one set of rules serves both formats. Unknown keys are reported with a "did you
mean", duplicate keys are errors, and every value keeps its line.

Nothing that could change a price, a stock or a title is dropped with only a warning: a
comma inside ``{ }`` or ``[ ]`` that cut a value in two (``{price: 24,90}``), a text under
an unknown language code, a field a shop cannot change, a misspelt price, stock or title
are errors, and the product is held until they are fixed (docs/catalog.md, "Quoting").
"""

from __future__ import annotations

import hashlib
from typing import Any

from syndicator.catalog.rules import OVERRIDE_FIELDS, TEXT_FIELDS, Raw, Row
from syndicator.common.problems import Problem, Severity, Unreadable, did_you_mean
from syndicator.common.yamlsafe import Cut, LDict, LList, YamlLimits, load_yaml
from syndicator.domain.languages import is_language

__all__ = ["read_yaml_rows"]

_SCALARS = (
    "sku",
    "category",
    "price",
    "stock",
    "who_made",
    "when_made",
    "made_to_order_days",
    "weight_kg",
    "hs_code",
)
_LISTS = ("materials", "tags", "images")
_PRODUCT_KEYS = (
    *_SCALARS,
    *_LISTS,
    *TEXT_FIELDS,
    "dimensions_cm",
    "provenance",
    "variants",
    "channels",
)
_VARIANT_SCALARS = ("sku", "price", "stock", "weight_kg")
_VARIANT_KEYS = (*_VARIANT_SCALARS, "options", "images", "dimensions_cm", "channels")
_DIMENSIONS = {"length": "length_cm", "width": "width_cm", "height": "height_cm"}
_PROVENANCE = ("region", "artisan")
_TOP = ("cooperative", "currency", "products")
# A misspelling of these is an error, not a warning: what it held could be a price, a stock,
# a title or a shop's change (an unknown field close to none of them is only ignored).
_WEIGHTY = ("price", "stock", "title", "variants", "channels", "options")


def cut_message(cut: Cut, label: str) -> str:
    """What to write instead of a value a comma cut in two (see :class:`Cut`)."""
    if cut.before is None:
        return (
            f'"{cut.after}" has no value (no ":" after it); inside {{ }} a comma separates '
            f"fields: write {cut.after}: ..., or put a text that holds a comma in quotes"
        )
    if cut.key is None:  # two items of a list
        return (
            f"{label}: {cut.written} was read as two values, {cut.before} and {cut.after}: "
            "inside [ ] a comma separates values; write a decimal with a point "
            f'({cut.before}.{cut.after}) or put it in quotes ("{cut.before},{cut.after}")'
        )
    if cut.decimal:
        return (
            f"{cut.key}: {cut.written} was cut at the comma and read as {cut.before}: inside "
            "{ } a comma separates fields; write the decimal with a point "
            f"({cut.key}: {cut.before}.{cut.after}) or put it in quotes ({cut.key}: "
            f'"{cut.before},{cut.after}")'
        )
    whole = f"{cut.before}, {cut.after}"
    return (
        f'{cut.key}: the text "{whole}" was cut at its comma and read as "{cut.before}": '
        f"inside {{ }} a comma separates fields; put the whole text in quotes ({cut.key}: "
        f'"{whole}")'
    )


class _Flattener:
    """Turns one product mapping (and its variants) into rows, noting what is wrong."""

    def __init__(self, file: str) -> None:
        self.file = file

    def problem(
        self, row: Row, line: int, message: str, severity: Severity = Severity.ERROR
    ) -> None:
        row.problems.append(Problem(self.file, line, message, None, severity))

    def unknown(
        self,
        row: Row,
        mapping: LDict,
        key: str,
        allowed: tuple[str, ...],
        what: str,
        weighty: tuple[str, ...] | None = None,
    ) -> None:
        """An unknown key: an error when it may be one of ``weighty`` misspelt (None: any
        key here could change a price, a stock or a title), else ignored with a warning."""
        line = mapping.line_of(key)
        if weighty is None or did_you_mean(key, weighty):
            self.problem(
                row,
                line,
                f'"{key}" is not a {what}{did_you_mean(key, allowed)}; write one of '
                f"{', '.join(allowed)} (the product is left out until then, so that nothing "
                "it says is lost)",
            )
            return
        message = f'"{key}" is not a {what}{did_you_mean(key, allowed)}; it is ignored'
        self.problem(row, line, message, Severity.WARNING)

    def check(self, row: Row, mapping: LDict) -> None:
        """A mapping's keys written twice, and values a comma cut in two (whose stray
        piece is taken out, so that it is not reported again as an unknown key)."""
        for key, first, second in mapping.duplicates:
            self.problem(
                row, second, f'"{key}" is written twice (lines {first} and {second}); keep one'
            )
        for cut in mapping.cuts:
            self.problem(row, cut.line, cut_message(cut, ""))
            if cut.after in mapping and mapping[cut.after] is None:
                del mapping[cut.after]

    def cuts(self, row: Row, items: LList, label: str) -> bool:
        """Report the values a comma cut in two in a list; True when there were some."""
        for cut in items.cuts:
            self.problem(row, cut.line, cut_message(cut, label))
        return bool(items.cuts)

    @staticmethod
    def put(row: Row, channel: str | None, key: str, value: Raw, line: int) -> None:
        """Store a value for the product (``channel`` None) or for one shop's override."""
        assert row.lines is not None
        if channel is None:
            row.fields[key] = value
            row.lines[key] = line
        else:
            row.overrides.setdefault(channel, {})[key] = value
            row.lines[f"{channel}/{key}"] = line

    def scalar(self, row: Row, key: str, value: Any, line: int, channel: str | None = None) -> None:
        if value is None:
            return
        if isinstance(value, (LDict, LList)):
            if isinstance(value, LList) and self.cuts(row, value, key):
                return
            self.problem(row, line, f"{key} must be one value, not a list or a mapping")
            return
        self.put(row, channel, key, value, line)

    def listing(
        self, row: Row, key: str, value: Any, line: int, channel: str | None = None
    ) -> None:
        if value is None:
            return
        if isinstance(value, LList):
            self.cuts(row, value, key)
            if any(isinstance(v, (LDict, LList)) for v in value):
                self.problem(row, line, f"{key} must be a list of words, like [wool, cotton]")
                return
            self.put(row, channel, key, [v for v in value if v is not None], line)
        elif isinstance(value, LDict):
            self.problem(row, line, f"{key} must be a list, like [wool, cotton]")
        else:
            self.put(row, channel, key, value, line)

    def texts(self, row: Row, key: str, value: Any, line: int, channel: str | None = None) -> None:
        if value is None:
            return
        if not isinstance(value, LDict):
            self.problem(
                row,
                line,
                f"{key} needs a language for each text, for example {key}: {{fr: ..., en: ...}}",
            )
            return
        self.check(row, value)
        for lang, text in value.items():
            if not is_language(lang):
                self.problem(
                    row,
                    value.line_of(lang),
                    f'"{lang}" is not a language code; use a two-letter code such as ar, fr '
                    "or en (the product is left out until then, so that no text is lost)",
                )
                continue
            self.scalar(row, f"{key}:{lang}", text, value.line_of(lang), channel)

    def mapping(
        self, row: Row, value: Any, line: int, fields: dict[str, str], what: str, example: str
    ) -> None:
        """A small mapping whose keys become fields: dimensions_cm, provenance."""
        if value is None:
            return
        if not isinstance(value, LDict):
            self.problem(row, line, f"{what} must be a mapping: {example}")
            return
        self.check(row, value)
        for key, item in value.items():
            if key in fields:
                self.scalar(row, fields[key], item, value.line_of(key))
            else:
                self.unknown(row, value, key, tuple(fields), f"{what} field", ())

    def channels(self, row: Row, value: Any, line: int) -> None:
        if value is None:
            return
        if not isinstance(value, LDict):
            self.problem(row, line, "channels must be a mapping of shop ids, like etsy: {...}")
            return
        self.check(row, value)
        assert row.lines is not None
        for channel, fields in value.items():
            row.overrides.setdefault(channel, {})
            row.lines[channel] = value.line_of(channel)
            if fields is None:
                continue
            if not isinstance(fields, LDict):
                self.problem(
                    row, value.line_of(channel), f"channels: {channel} must be a mapping of fields"
                )
                continue
            self.check(row, fields)
            for key, item in fields.items():
                iline = fields.line_of(key)
                if key in TEXT_FIELDS:
                    self.texts(row, key, item, iline, channel)
                elif key == "tags":
                    self.listing(row, key, item, iline, channel)
                elif key in OVERRIDE_FIELDS:
                    self.scalar(row, key, item, iline, channel)
                else:
                    allowed = (*OVERRIDE_FIELDS, *TEXT_FIELDS)
                    self.unknown(row, fields, key, allowed, "field a shop can change")

    def product(self, item: Any, line: int) -> list[Row]:
        row = Row(line, lines={})
        if not isinstance(item, LDict):
            self.problem(
                row,
                line,
                "each product must be a mapping of fields (sku: ..., title: ..., price: ...)",
            )
            return [row]
        self.check(row, item)
        rows = [row]
        for key, value in item.items():
            kline = item.line_of(key)
            if key in _SCALARS:
                self.scalar(row, key, value, kline)
            elif key in _LISTS:
                self.listing(row, key, value, kline)
            elif key in TEXT_FIELDS:
                self.texts(row, key, value, kline)
            elif key == "dimensions_cm":
                self.mapping(
                    row,
                    value,
                    kline,
                    _DIMENSIONS,
                    "dimensions_cm",
                    "{length: 250, width: 160, height: 2}",
                )
            elif key == "provenance":
                self.mapping(
                    row,
                    value,
                    kline,
                    dict(zip(_PROVENANCE, _PROVENANCE, strict=True)),
                    "provenance",
                    "{region: ..., artisan: ...}",
                )
            elif key == "channels":
                self.channels(row, value, kline)
            elif key == "variants":
                rows += self.variants(row, value, kline)
            else:
                self.unknown(row, item, key, _PRODUCT_KEYS, "product field", _WEIGHTY)
        return rows

    def variants(self, parent: Row, value: Any, line: int) -> list[Row]:
        if value is None:
            return []
        if not isinstance(value, LList):
            self.problem(parent, line, "variants must be a list, each starting with - sku: ...")
            return []
        parent_sku = parent.fields.get("sku")
        rows: list[Row] = []
        for index, item in enumerate(value):
            vline = value.line_of(index)
            row = Row(vline, lines={})
            rows.append(row)
            row.fields["parent_sku"] = (
                parent_sku if isinstance(parent_sku, str) else "(product without sku)"
            )
            if not isinstance(item, LDict):
                self.problem(
                    row,
                    vline,
                    "each variant must be a mapping: - sku: ..., options: {...}, stock: ...",
                )
                continue
            self.check(row, item)
            for key, v in item.items():
                kline = item.line_of(key)
                if key in _VARIANT_SCALARS:
                    self.scalar(row, key, v, kline)
                elif key == "images":
                    self.listing(row, key, v, kline)
                elif key == "dimensions_cm":
                    self.mapping(
                        row,
                        v,
                        kline,
                        _DIMENSIONS,
                        "dimensions_cm",
                        "{length: 250, width: 160, height: 2}",
                    )
                elif key == "channels":
                    self.channels(row, v, kline)
                elif key == "options":
                    if isinstance(v, LDict):
                        self.check(row, v)
                        for name, option in v.items():
                            self.scalar(row, f"option:{name}", option, v.line_of(name))
                    elif v is not None:
                        self.problem(
                            row,
                            kline,
                            "options must be a mapping, like {size: 120 x 180 cm, colour: safran}",
                        )
                else:
                    self.unknown(row, item, key, _VARIANT_KEYS, "variant field", _WEIGHTY)
        return rows


def _digest(row: Row) -> str:
    text = repr((sorted(row.fields.items()), sorted(row.overrides.items())))
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def read_yaml_rows(
    text: str, file: str, limits: YamlLimits | None = None
) -> tuple[list[Row], list[Problem], str | None]:
    """Rows of a YAML catalog, problems outside any product, and its cooperative id."""
    data = load_yaml(text, file, limits)
    if not isinstance(data, LDict):
        raise Unreadable(
            Problem(
                file,
                getattr(data, "line", 1),
                "a YAML catalog starts with cooperative:, currency: MAD and products: (see "
                "docs/catalog.md)",
            )
        )
    if data.duplicates:
        key, first, second = data.duplicates[0]
        raise Unreadable(
            Problem(
                file, second, f'"{key}" is written twice (lines {first} and {second}); keep one'
            )
        )
    problems: list[Problem] = []
    for key in data:
        if key not in _TOP:
            problems.append(
                Problem(
                    file,
                    data.line_of(key),
                    f'"{key}" is not a catalog field{did_you_mean(key, _TOP)}; it is ignored',
                    None,
                    Severity.WARNING,
                )
            )
    currency = data.get("currency")
    if currency is not None and str(currency).strip().upper() != "MAD":
        raise Unreadable(
            Problem(
                file,
                data.line_of("currency"),
                f'currency is "{currency}", but catalog prices are in Moroccan dirhams: write '
                "currency: MAD (each shop's currency is set in the daemon config)",
            )
        )
    products = data.get("products")
    if not isinstance(products, LList):
        raise Unreadable(
            Problem(
                file,
                data.line_of("products") if "products" in data else data.line,
                "products: must be a list of products, each starting with - sku: ...",
            )
        )
    cooperative = data.get("cooperative")
    if isinstance(cooperative, (LDict, LList)):
        raise Unreadable(
            Problem(
                file,
                data.line_of("cooperative"),
                "cooperative must be the cooperative's id, like atlas-rugs",
            )
        )
    flattener = _Flattener(file)
    rows: list[Row] = []
    for index, item in enumerate(products):
        rows += flattener.product(item, products.line_of(index))
    for row in rows:
        row.digest = _digest(row)
    return rows, problems, cooperative.strip() if cooperative else None
