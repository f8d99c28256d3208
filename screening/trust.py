"""The trust as a scan sees it: config, consent register and enrolled faces, loaded together."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from screening.config import Config, load_config
from screening.consent.register import Register, load_register
from screening.policy import Rules, rules_for


class SetupError(Exception):
    """The command cannot start: bad config, unreadable register, unknown channel."""


@dataclass
class Trust:
    config: Config
    register: Register
    gallery: Any = None  # enrolled face encodings, refreshed by enrol()
    problems: list[str] = field(default_factory=list)  # enrolment problems worth telling

    @property
    def names(self) -> tuple[tuple[str, str, str], ...]:
        """(person_id, name, role) of every register person, whatever their consent: for the text
        check (a name in the photographer's fields counts for pupils only: formats/credits.py)."""
        return tuple((p.person_id, p.name, p.role) for p in self.register.people.values())

    def rules(self, channel: str | None = None, today: dt.date | None = None) -> Rules:
        channel = self.config.default_channel if channel is None else channel  # "" is a channel asked for, unknown
        if channel not in self.config.channels:
            raise SetupError(f"--channel {channel!r} is not one of the config's channels: "
                             f"{', '.join(self.config.channels)}")
        return rules_for(self.config, self.register, channel, today or dt.date.today())

    def enrol(self) -> None:
        """Refresh the stored face encodings from the register and reference photos.

        Raises SetupError when the encodings store or the face engine cannot be used.
        """
        try:
            from screening.consent import enrolment
        except ImportError:  # faces check not installed: nothing to enrol, nothing cleared
            return
        try:
            result = enrolment.sync(self.config, self.register)
        except enrolment.EnrolmentError as exc:
            raise SetupError(str(exc)) from None
        self.gallery = result.gallery
        self.problems = list(result.problems)


def open_trust(config_path: str | Path | None) -> Trust:
    """Load and validate config and register, raising SetupError with a precise message."""
    from screening.config import ConfigError
    from screening.consent.register import RegisterError

    try:
        config = load_config(config_path)
        check_logos(config)
        register = load_register(config.register, config.channels,
                                 tuple(a.id for a in config.academies))
    except (ConfigError, RegisterError) as exc:
        raise SetupError(str(exc)) from None
    return Trust(config, register)


def check_logos(config: Config) -> None:
    """Refuse, before any photo is screened, an academy whose logos folder has no usable image.

    An empty folder, an SVG that will not render or a corrupt image would otherwise turn the
    logo and uniform checks off for that academy, or kill every worker that loads it.
    """
    from screening.config import ConfigError
    from screening.formats import ImageError
    from screening.formats.logo import check_folder

    for i, academy in enumerate(config.academies, start=1):
        if academy.logos is None:
            continue
        shown = academy.logos.relative_to(config.root) if academy.logos.is_relative_to(config.root) else academy.logos
        try:
            check_folder(academy.id, academy.logos, str(shown))
        except ImageError as exc:
            raise ConfigError(f"{config.path}: `academy[{i}].logos` {exc}") from None
