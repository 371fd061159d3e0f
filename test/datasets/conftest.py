"""Fixtures of the dataset tests."""
from pathlib import Path

import pytest
from datasets_fixtures import SHARED_DATA


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the repository (sequences/ and train/); the test is skipped without it."""
    if not (SHARED_DATA / "sequences" / "otb_Crossing").is_dir() or not (SHARED_DATA / "train").is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (needs sequences/ and train/)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def shared_sequences(shared_data) -> Path:
    return shared_data / "sequences"
