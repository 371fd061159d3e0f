"""Fixtures of the training tests."""
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the repository (sequences/ and train/); the test is skipped without it."""
    if not (SHARED_DATA / "sequences").is_dir() or not (SHARED_DATA / "train").is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (needs sequences/ and train/)")
    return SHARED_DATA
