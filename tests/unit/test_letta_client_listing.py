"""LettaClient's listing and history calls: the pages they ask for, the sentence a 404 gives
the user (it names what is missing), how far the retry check pages back through the history,
and how a history page's order is decided whatever order the server used."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from desktop.core.letta import LettaClient, Message, NotFound, ServerError
from desktop.core.letta import client as client_module
from desktop.core.letta.client import SEND_CLOCK_SKEW_S, newest_first
from tests.unit.test_letta_conversations import Recorder

AGENT = "agent-1"
CONV = "conv-7"
SENT = datetime(2026, 1, 1, 10, 0, 0, tzinfo=timezone.utc)
SENT_AT = SENT.timestamp()


def client_for(answer) -> tuple[LettaClient, Recorder]:
    rec = Recorder(answer)
    client = LettaClient("https://letta.test", "key-123456", transport=httpx.MockTransport(rec))
    return client, rec


def iso(moment: datetime, *, z: bool = True) -> str:
    """The server's date format: UTC with a trailing "Z" (or naive, as older servers wrote)."""
    text = moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat()
    return text + "Z" if z else text


def msg_json(mid: str, date: str | None = None, kind: str = "assistant", **extra) -> dict:
    data = {"id": mid, "message_type": f"{kind}_message", "content": mid, **extra}
    if date is not None:
        data["date"] = date
    return data


class _Py310Datetime(datetime):
    """Python 3.10's `datetime.fromisoformat`, which rejects a trailing "Z" (3.11 reads it).
    pyproject allows 3.10, so the client must turn "Z" into "+00:00" itself."""

    @classmethod
    def fromisoformat(cls, date_string: str) -> datetime:
        if "Z" in date_string or "z" in date_string:
            raise ValueError(f"Invalid isoformat string: {date_string!r}")
        return datetime.fromisoformat(date_string)


@pytest.fixture
def python310_dates(monkeypatch):
    monkeypatch.setattr(client_module, "datetime", _Py310Datetime)


@pytest.fixture
def tokyo_clock():
    """The user's clock nine hours ahead of UTC (POSIX TZ string: no tz database needed)."""
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset is POSIX-only")
    old = os.environ.get("TZ")
    os.environ["TZ"] = "JST-9"
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


# -- what a listing asks for -------------------------------------------------------------------


def test_agent_list_asks_for_fifty_most_recently_used_first():
    client, rec = client_for(lambda r: httpx.Response(200, json=[{"id": "a-1", "name": "A"}]))
    assert [a.id for a in client.list_agents()] == ["a-1"]
    params = rec.requests[0].url.params
    assert (params["limit"], params["order_by"], params["order"]) == (
        "50",
        "last_run_completion",
        "desc",
    )


def test_conversation_list_asks_for_fifty_by_default():
    client, rec = client_for(lambda r: httpx.Response(200, json=[]))
    client.list_conversations(AGENT)
    params = rec.requests[0].url.params
    assert (params["limit"], params["order_by"]) == ("50", "last_message_at")


# -- a 404 names what is missing ---------------------------------------------------------------

NOT_FOUND_CALLS = [
    ("list_agents", lambda c: c.list_agents(), "agent list"),
    ("find_agents", lambda c: c.find_agents("letta-desktop"), "agent list"),
    ("get_agent", lambda c: c.get_agent(AGENT), "agent"),
    ("update_agent_model", lambda c: c.update_agent_model(AGENT, "openai/gpt-4o"), "agent"),
    ("create_agent", lambda c: c.create_agent("Describer", "openai/gpt-4o"), "agent"),
    ("list_models", lambda c: c.list_models(), "model list"),
    ("agent_history", lambda c: c.list_messages(AGENT), "agent"),
    # The default conversation is the agent's own: there a 404 means the agent is gone.
    ("default_history", lambda c: c.list_messages(AGENT, conversation_id="default"), "agent"),
    ("thread_history", lambda c: c.list_messages(AGENT, conversation_id=CONV), "conversation"),
    ("list_conversations", lambda c: c.list_conversations(AGENT), "conversation list"),
    ("get_conversation", lambda c: c.get_conversation(CONV), "conversation"),
    (
        "update_conversation_model",
        lambda c: c.update_conversation_model(CONV, "openai/gpt-4o"),
        "conversation",
    ),
    ("create_conversation", lambda c: c.create_conversation(AGENT), "conversation"),
    ("delete_conversation", lambda c: c.delete_conversation(CONV), "conversation"),
]


@pytest.mark.parametrize(
    ("call", "what"),
    [(c, w) for _, c, w in NOT_FOUND_CALLS],
    ids=[name for name, _, _ in NOT_FOUND_CALLS],
)
def test_not_found_names_what_is_missing(call, what):
    """The user reads which thing the server does not have, and the app branches on `what`
    (a missing agent is dropped from the list; a missing conversation from the agent's)."""
    client, _ = client_for(lambda r: httpx.Response(404, json={"detail": "Not Found"}))
    with pytest.raises(NotFound) as caught:
        call(client)
    assert caught.value.what == what
    assert str(caught.value) == f"Not found: the {what} does not exist on this server (Not Found)."


@pytest.mark.parametrize("answer", [{"summary": "no id"}, None], ids=["no-id", "empty-body"])
def test_a_conversation_without_an_id_is_a_server_error(answer):
    def reply(_r):
        return httpx.Response(200, json=answer) if answer is not None else httpx.Response(200)

    client, _ = client_for(reply)
    with pytest.raises(ServerError, match="a conversation the app could not read"):
        client.create_conversation(AGENT)


# -- the retry check pages back through the history --------------------------------------------


def paged(first: list[dict], rest: list[dict] | None = None):
    """The first page without `before`, then `rest` (default: the start of the history)."""
    return lambda r: httpx.Response(
        200, json=first if "before" not in r.url.params else (rest or [])
    )


def test_find_user_message_gives_up_after_ten_pages():
    client, rec = client_for(lambda r: httpx.Response(200, json=[msg_json("m-1")]))
    assert client.find_user_message(AGENT, "otid-x", page_size=1) is None
    assert len(rec.requests) == 10


def test_find_user_message_stops_at_a_message_without_id():
    """The oldest message of a full page carries no id: nothing to page back from."""
    page = [msg_json("m-3"), msg_json("m-2"), {"message_type": "assistant_message"}]
    client, rec = client_for(lambda r: httpx.Response(200, json=page))
    assert client.find_user_message(AGENT, "otid-x", page_size=3) is None
    assert len(rec.requests) == 1


def test_find_user_message_pages_back_from_the_oldest_message():
    """Inside the skew window (exactly at its edge here) the message may be further back."""
    page = [
        msg_json("m-3", iso(SENT - timedelta(seconds=30))),
        msg_json("m-2", iso(SENT - timedelta(seconds=60))),
        msg_json("m-1", iso(SENT - timedelta(seconds=SEND_CLOCK_SKEW_S))),
    ]
    user = msg_json("m-0", iso(SENT), kind="user", otid="otid-x")
    client, rec = client_for(paged(page, [user]))
    found = client.find_user_message(AGENT, "otid-x", sent_at=SENT_AT, page_size=3)
    assert found is not None and found.id == "m-0"
    assert len(rec.requests) == 2
    assert rec.requests[1].url.params["before"] == "m-1"


def older_than_the_send(last_date: str, *, z: bool = True) -> list[dict]:
    return [
        msg_json("m-3", iso(SENT - timedelta(seconds=30), z=z)),
        msg_json("m-2", iso(SENT - timedelta(seconds=60), z=z)),
        msg_json("m-1", last_date),
    ]


def test_find_user_message_stops_at_a_page_older_than_the_send():
    """The oldest message predates the send by more than the skew: the send is not further
    back, so the check ends (one request, not ten)."""
    last = iso(SENT - timedelta(seconds=SEND_CLOCK_SKEW_S + 60))
    client, rec = client_for(lambda r: httpx.Response(200, json=older_than_the_send(last)))
    assert client.find_user_message(AGENT, "otid-x", sent_at=SENT_AT, page_size=3) is None
    assert len(rec.requests) == 1


def test_find_user_message_reads_a_dates_utc_offset():
    """11:59+02:00 is 09:59 UTC, more than the skew (15 min) before a 10:15 UTC send; read as
    11:59 UTC it would be inside the skew and the search would page on."""
    last = (SENT - timedelta(seconds=60)).astimezone(timezone(timedelta(hours=2))).isoformat()
    client, rec = client_for(lambda r: httpx.Response(200, json=older_than_the_send(last)))
    sent_at = SENT_AT + SEND_CLOCK_SKEW_S
    assert client.find_user_message(AGENT, "otid-x", sent_at=sent_at, page_size=3) is None
    assert len(rec.requests) == 1


def test_find_user_message_stops_on_a_z_date_on_python_310(python310_dates):
    last = iso(SENT - timedelta(seconds=SEND_CLOCK_SKEW_S + 60))
    client, rec = client_for(lambda r: httpx.Response(200, json=older_than_the_send(last)))
    assert client.find_user_message(AGENT, "otid-x", sent_at=SENT_AT, page_size=3) is None
    assert len(rec.requests) == 1


def test_find_user_message_reads_a_naive_date_as_utc(tokyo_clock):
    """A date without offset is the server's UTC, not the user's local time: read as Tokyo
    time it would be nine hours older and end the search before the send's page."""
    last = iso(SENT - timedelta(seconds=60), z=False)
    page = [msg_json("m-3", last), msg_json("m-2", last), msg_json("m-1", last)]
    user = msg_json("m-0", iso(SENT, z=False), kind="user", otid="otid-x")
    client, rec = client_for(paged(page, [user]))
    found = client.find_user_message(AGENT, "otid-x", sent_at=SENT_AT, page_size=3)
    assert found is not None and found.id == "m-0"
    assert len(rec.requests) == 2


def test_find_user_message_stops_on_an_old_naive_date():
    last = iso(SENT - timedelta(seconds=SEND_CLOCK_SKEW_S + 60), z=False)
    page = older_than_the_send(last, z=False)
    client, rec = client_for(lambda r: httpx.Response(200, json=page))
    assert client.find_user_message(AGENT, "otid-x", sent_at=SENT_AT, page_size=3) is None
    assert len(rec.requests) == 1


# -- a history page's order --------------------------------------------------------------------


def at(second: int) -> str:
    return iso(SENT + timedelta(seconds=second))


def m(mid: str, second: int | None = None, kind: str = "assistant", run: str | None = None):
    extra = {"run_id": run} if run else {}
    return Message.from_json(msg_json(mid, None if second is None else at(second), kind, **extra))


def order(page: list[Message]) -> list[str]:
    return [message.id for message in newest_first(page)]


def test_a_system_message_date_does_not_vote():
    """Newest-first page whose dates tie, with a system message rewritten (newer date) at the
    bottom: its date must not outvote the page's own order."""
    page = [m("a", 3), m("u", 3, "user"), m("sys", 9, "system")]
    assert order(page) == ["a", "u", "sys"]


def test_most_date_steps_decide_rising():
    """Three steps up, one down: the page was oldest-first."""
    page = [m("m1", 1), m("m2", 2), m("m3", 3), m("m4", 2)]
    assert order(page) == ["m4", "m3", "m2", "m1"]


def test_most_date_steps_decide_falling():
    page = [m("m1", 3), m("m2", 2), m("m3", 1), m("m4", 2)]
    assert order(page) == ["m1", "m2", "m3", "m4"]


def test_tied_dates_a_user_message_before_its_reply_means_oldest_first():
    """The page starts with the end of an earlier run (no user message on the page)."""
    page = [m("old", 0, run="r0"), m("u", 0, "user", run="r1"), m("a", 0, run="r1")]
    assert order(page) == ["a", "u", "old"]


def test_only_the_users_own_run_votes():
    """Newest-first, dates tied; the older run's user message is off the page. Its replies
    share no run with the user message on the page, so they do not vote."""
    page = [
        m("a", 0, run="r1"),
        m("u", 0, "user", run="r1"),
        m("o1", 0, run="r0"),
        m("o2", 0, run="r0"),
        m("o3", 0, run="r0"),
    ]
    assert order(page) == ["a", "u", "o1", "o2", "o3"]


def test_runs_break_a_tie_of_date_steps_rising():
    """Date steps tie two to two; the user message before its reply tips it to oldest-first."""
    page = [m("m0", 1), m("u", 2, "user", "r1"), m("a", 1, run="r1"), m("m3", 2), m("m4", 1)]
    assert order(page) == ["m4", "m3", "a", "u", "m0"]


def test_runs_break_a_tie_of_date_steps_falling():
    page = [m("a", 1, run="r1"), m("u", 2, "user", "r1"), m("m2", 1), m("m3", 2), m("m4", 1)]
    assert order(page) == ["a", "u", "m2", "m3", "m4"]


def test_a_system_message_first_breaks_a_tie_of_date_steps():
    page = [m("sys", None, "system"), m("a1", 2), m("u", 1, "user"), m("a2", 2)]
    assert order(page) == ["a2", "u", "a1", "sys"]


def test_a_system_message_last_breaks_a_tie_of_date_steps():
    page = [m("m0", 1), m("m1", 2), m("m2", 1), m("m3", 2), m("m4", 1), m("sys", None, "system")]
    assert order(page) == ["m0", "m1", "m2", "m3", "m4", "sys"]


def test_system_messages_of_two_conversations_at_the_start():
    """The agent route lists every conversation's messages: two system messages can lead an
    oldest-first page."""
    page = [m("s1", None, "system"), m("s2", None, "system"), m("u", None, "user"), m("a")]
    assert order(page) == ["a", "u", "s2", "s1"]


def test_system_messages_at_both_ends_leave_the_page_as_sent():
    page = [m("s1", None, "system"), m("u", None, "user"), m("a"), m("s2", None, "system")]
    assert order(page) == ["s1", "u", "a", "s2"]


def test_history_z_dates_are_read_on_python_310(python310_dates):
    """An oldest-first page ordered only by its "Z" dates is turned newest-first on 3.10 too."""
    page = [msg_json("u", at(1), kind="user"), msg_json("a", at(2))]
    client, _ = client_for(lambda r: httpx.Response(200, json=page))
    assert [message.id for message in client.list_messages(AGENT)] == ["a", "u"]
