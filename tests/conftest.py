import pytest

from modes import AD, MODES


@pytest.fixture(params=MODES)
def ad(request):
    """The transforms of forward or reverse mode (tests/modes.py): every test that takes
    `ad` runs in both modes, and in reverse mode each result is checked against forward."""
    return AD(request.param)
