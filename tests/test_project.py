"""Project-wide guarantees of the test run itself."""


def test_every_test_runs_under_a_time_limit(pytestconfig):
    # pytest-timeout is active and its limit set, so a hanging symbolic step fails the run instead of stalling CI
    assert pytestconfig.pluginmanager.hasplugin("timeout")
    assert float(pytestconfig.getini("timeout")) == 300
