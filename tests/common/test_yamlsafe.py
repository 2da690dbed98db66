"""YAML read safely: lines kept, text kept as written, hostile documents refused quickly."""

from __future__ import annotations

import pytest

from syndicator.common.problems import Unreadable
from syndicator.common.yamlsafe import LDict, LList, YamlLimits, line_of, load_yaml


def test_values_keep_their_text_and_their_line() -> None:
    data = load_yaml("sku: 0042\nprice: 1250.50\nstock: ~\ntags:\n  - a\n  - b\n", "c.yaml")
    assert data == {"sku": "0042", "price": "1250.50", "stock": None, "tags": ["a", "b"]}
    assert isinstance(data, LDict) and isinstance(data["tags"], LList)
    assert line_of(data, ("price",)) == 2
    assert line_of(data, ("tags", 1)) == 6
    assert line_of(data, ("tags", 9)) == 4  # past the end: the nearest parent


def test_quoted_null_words_stay_text() -> None:
    assert load_yaml('a: "null"\nb: ""\nc:\n', "c.yaml") == {"a": "null", "b": "", "c": None}


def test_duplicate_keys_are_recorded_with_both_lines() -> None:
    data = load_yaml("price: 1\nstock: 2\nprice: 3\n", "c.yaml")
    assert data.duplicates == [("price", 1, 3)]


def billion_laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        prev, name = chr(96 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    with pytest.raises(Unreadable) as err:
        load_yaml(billion_laughs(), "bomb.yaml")
    assert "expand into more than" in err.value.problem.message
    assert err.value.problem.file == "bomb.yaml"


def test_a_few_small_aliases_are_fine() -> None:
    data = load_yaml("base: &b {who_made: collective}\nx: *b\ny: *b\n", "c.yaml")
    assert data["x"] == data["y"] == {"who_made": "collective"}


@pytest.mark.parametrize(
    "text",
    ["[" * 5000 + "]" * 5000, "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 200))],
)
def test_deep_nesting_is_refused_with_a_message(text: str) -> None:
    with pytest.raises(Unreadable) as err:
        load_yaml(text, "deep.yaml", YamlLimits(max_depth=40))
    assert (
        "nested more than 40 levels" in err.value.problem.message
        or "nesting depth" in err.value.problem.message
    )


def test_a_self_referencing_alias_is_refused() -> None:
    with pytest.raises(Unreadable, match="refers to itself"):
        load_yaml("a: &a [1, *a]\n", "c.yaml")


@pytest.mark.parametrize(
    "tag", ["!!python/object:os.system", "!!python/name:os.system", "!custom", "!!binary"]
)
def test_language_specific_tags_are_refused(tag: str) -> None:
    with pytest.raises(Unreadable, match="tag"):
        load_yaml(f"a: {tag} x\n", "c.yaml")


def test_broken_yaml_names_the_line_and_what_to_check() -> None:
    with pytest.raises(Unreadable) as err:
        load_yaml("products:\n  - sku: A\n    title: Tapis: laine\n", "c.yaml")
    problem = err.value.problem
    assert problem.line == 3
    assert "indentation" in problem.message and "quotes" in problem.message


def test_several_documents_are_refused() -> None:
    with pytest.raises(Unreadable, match="several YAML documents"):
        load_yaml("a: 1\n---\nb: 2\n", "c.yaml")


def test_control_characters_are_refused_with_their_line() -> None:
    with pytest.raises(Unreadable) as err:
        load_yaml("a: 1\nb: \x07\n", "c.yaml")
    assert err.value.problem.line == 2
    assert "control character" in err.value.problem.message


# ------------------------------------------------------------ commas that cut a value in two
@pytest.mark.parametrize(
    ("text", "cut"),
    [
        ("a: {price: 24,90}", ("price", "24", "90", "24,90")),
        ("a: {price: 24, 90}", ("price", "24", "90", "24, 90")),
        (
            "a: {en: Almonds, argan oil and honey.}",
            ("en", "Almonds", "argan oil and honey.", "Almonds, argan oil and honey."),
        ),
        ("a: {fr: Tapis,\n    en}", ("fr", "Tapis", "en", "Tapis, en")),
        ("a: {x}", (None, None, "x", "x")),
        ("a: [24,90]", (None, "24", "90", "24,90")),
    ],
)
def test_a_comma_that_cut_a_value_in_two_is_noted(
    text: str, cut: tuple[str | None, str | None, str, str]
) -> None:
    data = load_yaml(text, "f.yaml")["a"]
    (found,) = data.cuts
    assert (found.key, found.before, found.after, found.written) == cut
    assert found.line == 1


@pytest.mark.parametrize(
    "text",
    [
        "a: {fr: Tapis, en: Rug}",
        'a: {en: "Almonds, argan oil and honey."}',
        "a: {price: 24.90}",
        "a: {price: 24, old: 90}",
        "a: {x: , y: 1}",
        "a: [wool, cotton]",
        "a: [wool,cotton]",
        "a: [24, 90]",
        "a:\n  price: 24,90\n  en: Almonds, argan oil and honey.",
    ],
)
def test_flow_mappings_and_lists_written_right_have_no_cut(text: str) -> None:
    assert load_yaml(text, "f.yaml")["a"].cuts == []
