"""Server settings read FENGHUO_* when a Settings is made, not when the module is imported: the
CLI exports config-file values into the environment after the imports (platform/config_file.py)."""

from fenghuo.platform.config import Settings


def test_settings_read_the_environment_when_made(monkeypatch):
    monkeypatch.setenv("FENGHUO_POLL_SECONDS", "0.5")
    monkeypatch.setenv("FENGHUO_AUTH_FAILURES_PER_MINUTE", "7")
    monkeypatch.setenv("FENGHUO_BUS", "nats://127.0.0.1:1")
    s = Settings()
    assert (s.poll_seconds, s.auth_failures_per_minute, s.bus_url) == (0.5, 7, "nats://127.0.0.1:1")
    assert Settings(poll_seconds=2.0).poll_seconds == 2.0  # an explicit value still wins
    monkeypatch.delenv("FENGHUO_BUS")
    assert Settings().bus_url is None
