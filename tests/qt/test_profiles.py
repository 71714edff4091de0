"""Server profiles: stored list, File ▸ Server switching (key per URL, X-Project per profile),
the Servers dialog (add, rename, remove, key), and env/CLI overrides staying one-run only."""

from __future__ import annotations

import threading

import pytest

from desktop.core.letta import LETTA_CLOUD_URL, LettaClient
from desktop.settings import Settings
from desktop.ui.connection.profiles import Profile, Profiles
from desktop.ui.connection.profiles_dialog import ProfilesDialog
from desktop.ui.window.main_window import MainWindow
from tests.fake_letta import FakeLetta, agent_route_transport
from tests.memory_keyring import memory_secrets

HOME = "http://letta.home.test:8283"


@pytest.fixture
def fake():
    server = FakeLetta()
    server.add_agent("Helper")
    return server


def test_profiles_migrate_the_old_single_server_and_track_the_current_one():
    settings = Settings()
    settings.base_url = HOME
    profiles = Profiles(settings)
    assert profiles.all() == [Profile("letta.home.test:8283", HOME)]
    assert profiles.current().name == "letta.home.test:8283"
    profiles.put(Profile("Cloud", LETTA_CLOUD_URL, " team-a "))
    assert profiles.get("Cloud").project == "team-a"
    assert profiles.project_for(LETTA_CLOUD_URL) == "team-a"
    assert profiles.project_for(HOME) is None
    profiles.set_current("Cloud")
    assert settings.base_url == LETTA_CLOUD_URL
    profiles.put(Profile("Work cloud", LETTA_CLOUD_URL, "team-a"), old_name="Cloud")  # rename
    assert [p.name for p in profiles.all()] == ["letta.home.test:8283", "Work cloud"]
    assert profiles.current().name == "Work cloud"
    # Connecting to a URL through the connect dialog reuses its profile, or makes one.
    assert profiles.ensure(HOME).name == "letta.home.test:8283"
    assert profiles.ensure("http://other.test").name == "other.test"
    assert profiles.unique_name("other.test") == "other.test (2)"
    profiles.remove("other.test")
    assert profiles.current().name == "letta.home.test:8283"  # falls back to the first one


def test_a_base_url_override_does_not_move_the_current_profile():
    settings = Settings()
    Profiles(settings).put(Profile("Home", HOME))
    Profiles(settings).set_current("Home")
    settings.base_url = "http://override.test"  # what a --base-url run leaves behind
    Profiles(settings)  # the next start
    assert settings.base_url == HOME


def make_window(qtbot, workers, fake, secrets):
    win = MainWindow(workers, Settings(), secrets, fake.factory)
    qtbot.addWidget(win)
    win.show()
    return win


def test_file_server_menu_switches_profiles_with_their_keys_and_projects(qtbot, workers, fake):
    settings = Settings()
    profiles = Profiles(settings)
    profiles.put(Profile("Cloud", LETTA_CLOUD_URL, "team-a"))
    profiles.put(Profile("Home", HOME))
    profiles.set_current("Home")
    secrets = memory_secrets()
    secrets.set(LETTA_CLOUD_URL, fake.key)
    secrets.set(HOME, fake.key)
    settings.set_last_agent(LETTA_CLOUD_URL, fake.agents[0]["id"])  # no agent picker to answer
    window = make_window(qtbot, workers, fake, secrets)
    window.start(None, None, fake.agents[0]["id"])
    qtbot.waitUntil(
        lambda: window.session is not None and window.session.agent is not None, timeout=5000
    )
    assert window.connection.base_url == HOME
    qtbot.waitUntil(lambda: window.session._history_task is None, timeout=5000)
    assert all("x-project" not in r.headers for r in fake.requests)

    menu = window.server_menu
    menu.aboutToShow.emit()
    names = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert names == ["Cloud", "Home", "&Manage servers…"]
    assert [a.text() for a in menu.actions() if a.isChecked()] == ["Home"]
    file_menu = window.menuBar().actions()[0].menu()
    assert menu.menuAction() in file_menu.actions()

    seen = len(fake.requests)
    next(a for a in menu.actions() if a.text() == "Cloud").trigger()
    qtbot.waitUntil(
        lambda: window.connection.base_url == LETTA_CLOUD_URL and window.session.agent is not None,
        timeout=5000,
    )
    later = [r for r in fake.requests[seen:] if r.url.host == "api.letta.com"]
    assert later and all(r.headers.get("x-project") == "team-a" for r in later)
    assert all(r.headers["authorization"] == f"Bearer {fake.key}" for r in later)
    assert settings.current_profile == "Cloud" and Settings().base_url == LETTA_CLOUD_URL
    window.close()


def test_servers_dialog_adds_renames_removes_and_stores_the_key(qtbot):
    settings = Settings()
    profiles = Profiles(settings)
    stored: list[tuple[str, str]] = []
    dialog = ProfilesDialog(profiles, lambda url, key: stored.append((url, key)))
    qtbot.addWidget(dialog)
    assert dialog.list.count() == 0 and not dialog.connect_button.isEnabled()
    dialog.add_button.click()
    assert dialog.selected() == "Self-hosted" and dialog.url_edit.text() == "http://localhost:8283"
    dialog.name_edit.setText("Lab")
    dialog.url_edit.setText("lab.example.org")
    dialog.project_edit.setText("research")
    dialog.key_edit.setText("sk-lab-key")
    dialog.save_button.click()
    assert profiles.all() == [Profile("Lab", "https://lab.example.org", "research")]
    assert stored == [("https://lab.example.org", "sk-lab-key")]
    dialog.add_button.click()
    dialog.name_edit.setText("Lab")
    dialog.save_button.click()
    assert "already" in dialog.status.text()
    dialog.remove_button.click()
    assert [p.name for p in profiles.all()] == ["Lab"]
    dialog.list.setCurrentRow(0)
    dialog.connect_button.click()
    assert dialog.chosen == "Lab" and dialog.result() == ProfilesDialog.DialogCode.Accepted


def test_connecting_through_the_dialog_makes_a_profile(qtbot, workers, fake):
    secrets = memory_secrets()
    window = make_window(qtbot, workers, fake, secrets)
    window.settings.set_last_agent(HOME, fake.agents[0]["id"])
    window.connect_to(HOME, fake.key, remember=True)
    qtbot.waitUntil(
        lambda: window.session is not None and window.session.agent is not None, timeout=5000
    )
    assert [p.base_url for p in window.features.connection.profiles.all()] == [HOME]
    assert window.settings.current_profile == "letta.home.test:8283"
    window.close()


def test_a_late_key_check_of_a_server_left_does_not_make_it_current(qtbot, workers, fake):
    """Connect to a slow server, switch to another before it answers: the late answer of the
    first must not become the saved server, nor open anything."""
    release = threading.Event()

    def factory(base_url: str, key: str | None) -> LettaClient:
        if "slow.test" not in base_url:
            return fake.factory(base_url, key)

        def slow(request):
            release.wait(10)
            return fake.handle(request)

        client = LettaClient(base_url, key, transport=agent_route_transport(slow))
        client.close = lambda: None  # its answer is already on the way back
        return client

    settings = Settings()
    for url in (HOME, "https://slow.test"):  # no agent picker to answer
        settings.set_last_agent(url, fake.agents[0]["id"])
    window = MainWindow(workers, settings, memory_secrets(), factory)
    qtbot.addWidget(window)
    window.show()
    window.connect_to("https://slow.test", fake.key, remember=False)
    window.connect_to(HOME, fake.key, remember=False)
    qtbot.waitUntil(
        lambda: window.session is not None and window.session.agent is not None, timeout=5000
    )
    release.set()
    qtbot.waitUntil(lambda: workers.active_count == 0, timeout=5000)
    assert Settings().base_url == HOME
    assert window.connection.base_url == HOME
    assert window.server_label.text() == HOME.split("://", 1)[-1]
    window.close()
