"""Shared fixtures. Tests that need ../shared/data skip cleanly when it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
PUBLIC_DOMAIN = REPO / "samples" / "public-domain"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the checkout (measurement photos), or skip."""
    if not (SHARED_DATA / "MANIFEST.md").is_file():
        pytest.skip("../shared/data is not beside this checkout")
    return SHARED_DATA


@pytest.fixture(scope="session")
def public_domain() -> Path:
    """The two public-domain photos committed with the project (astronaut.png, camera.png)."""
    if (PUBLIC_DOMAIN / "astronaut.png").is_file():
        return PUBLIC_DOMAIN
    if (SHARED_DATA / "public-domain" / "astronaut.png").is_file():
        return SHARED_DATA / "public-domain"
    pytest.skip("public-domain sample photos not found")
