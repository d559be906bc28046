import pytest

import modes
from modes import AD, MODES


@pytest.fixture(params=MODES)
def ad(request):
    """The transforms of forward or reverse mode (tests/modes.py): every test that takes
    `ad` runs in both modes, and in reverse mode each result is checked against forward
    and against every other entry point."""
    return AD(request.param)


def pytest_configure(config):
    config.addinivalue_line("markers", "entry_point_bug(reason): an s2sdiff bug makes entry points disagree on "
                                       "this test: xfail(strict=True, raises=EntryPointMismatch) where they are "
                                       "compared (not in forward mode)")


def pytest_collection_modifyitems(items):
    for item in items:
        bug = item.get_closest_marker("entry_point_bug")
        params = item.callspec.params if hasattr(item, "callspec") else {}
        if bug and "forward" not in (params.get("ad"), params.get("mode")):
            item.add_marker(pytest.mark.xfail(strict=True, raises=modes.EntryPointMismatch,
                                              reason=f"s2sdiff bug: {bug.args[0]}"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Disagreements between entry points (modes.check_entry_points) fail the test after
    its own checks have passed, so an entry_point_bug never hides an oracle failure."""
    modes.pending.clear()
    result = yield
    modes.raise_pending()
    return result
