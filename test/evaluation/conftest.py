"""Fixtures of the evaluation tests."""
from pathlib import Path

import pytest
from eval_fixtures import SHARED_SEQUENCES


@pytest.fixture(scope="session")
def shared_sequences() -> Path:
    if not (SHARED_SEQUENCES / "otb_Crossing").is_dir():
        pytest.skip(f"shared sequences not found at {SHARED_SEQUENCES}")
    return SHARED_SEQUENCES
