"""An academy alias too short to mean anything (one letter, a bare number, a kind word alone)
would flag every photo with that letter, number or word in it: it is refused when the config is
loaded, naming the file, the academy and the key. Aliases that say which school stay accepted."""

from __future__ import annotations

import pytest

from screening.config import ConfigError, load_config
from screening.settings import ALIAS_KIND_WORDS
from screening.vision.name_forms import GENERIC

from .test_config_register import GOOD, write_config


def with_aliases(*aliases: str) -> str:
    listed = ", ".join(f'"{a}"' for a in aliases)
    return GOOD.replace('uniform_colours = ["#1b2a4a", "#c8a200"]\n',
                        f'uniform_colours = ["#1b2a4a", "#c8a200"]\naliases = [{listed}]\n')


@pytest.mark.parametrize("alias, why", [
    ("A", "fewer than 2 letters or digits"),
    ("n.", "fewer than 2 letters or digits"),
    ("É", "fewer than 2 letters or digits"),
    ("12", "a number alone"),
    ("2024", "a number alone"),
    ("Academy", "only words for a kind of school"),
    ("The Academy", "only words for a kind of school"),
    ("Primary School", "only words for a kind of school"),
    ("C of E", "only words for a kind of school"),
])
def test_a_meaningless_alias_is_refused_naming_file_academy_and_key(tmp_path, alias, why):
    p = write_config(tmp_path, with_aliases("Trinity North", alias))
    with pytest.raises(ConfigError) as err:
        load_config(p)
    message = str(err.value)
    assert str(p.resolve()) in message and "academy[1].aliases" in message and "'north'" in message
    assert repr(alias) in message and why in message


@pytest.mark.parametrize("alias", ["TNA", "Trinity North", "St Aidans", "N1", "Year 7 North", "Northfield"])
def test_an_alias_that_says_which_school_is_accepted(tmp_path, alias):
    config = load_config(write_config(tmp_path, with_aliases(alias)))
    assert config.academies[0].aliases == (alias,)


def test_the_kind_words_are_the_text_checks_own():
    assert ALIAS_KIND_WORDS == GENERIC
