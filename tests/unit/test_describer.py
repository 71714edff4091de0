"""The describer's core: which model describes, what it costs, the helper agent, one conversation
per image (always deleted), cancel, and the text that goes into the composer."""

from __future__ import annotations

from typing import Any

import pytest

from desktop.core.capabilities import capability_for
from desktop.core.describer import (
    HELPER_DESCRIPTION,
    HELPER_NAME,
    HELPER_TAG,
    SYSTEM_PROMPT,
    DescribeCancelled,
    Described,
    Describer,
    DescriptionEmpty,
    Starting,
    choose_model,
    estimate_tokens,
    helper_spec,
    labelled,
    vision_models,
)
from desktop.core.letta import Agent, ModelInfo, StreamChunk, StreamFailed, StreamStop
from desktop.core.letta.errors import BadRequest, LettaError, images_refused
from desktop.ui.user_errors import IMAGES_REFUSED, Action, describe


def models(*handles: str) -> list[ModelInfo]:
    return [ModelInfo.from_json({"handle": h}) for h in handles]


# -- which model --------------------------------------------------------------------------------


def test_the_users_choice_wins_when_the_server_offers_it_and_it_sees():
    offered = models("openai/gpt-4o-mini", "openai/gpt-4o", "anthropic/claude-haiku-4-5")
    assert choose_model("openai/gpt-3.5-turbo", offered, None, "openai/gpt-4o") == "openai/gpt-4o"
    # Gone from the server, or blind: automatic again.
    assert choose_model("openai/gpt-3.5-turbo", offered, None, "openai/gpt-4.1") == "openai/gpt-4o"
    assert (
        choose_model("openai/gpt-3.5-turbo", offered, None, "openai/gpt-3.5-turbo")
        == "openai/gpt-4o"
    )


def test_automatic_is_a_vision_model_of_the_agents_own_provider():
    offered = models(
        "anthropic/claude-haiku-4-5", "openai-proxy/gpt-3.5-turbo", "openai-proxy/gpt-4o-mini"
    )
    assert choose_model("openai-proxy/gpt-3.5-turbo", offered) == "openai-proxy/gpt-4o-mini"
    # Same provider profile under another prefix (openai ~ openai-proxy).
    assert choose_model("openai/gpt-3.5-turbo", offered) == "openai-proxy/gpt-4o-mini"
    # The same prefix first, then the same provider profile.
    both = models("openai/gpt-4o", "openai-proxy/gpt-4o-mini")
    assert choose_model("openai/gpt-3.5-turbo", both) == "openai/gpt-4o"
    assert choose_model("azure/gpt-35-turbo", both) == "openai-proxy/gpt-4o-mini"
    # No vision model of its provider: any that sees.
    assert choose_model("deepseek/deepseek-chat", offered) == "anthropic/claude-haiku-4-5"
    assert choose_model(None, offered) == "anthropic/claude-haiku-4-5"
    assert choose_model("openai/gpt-3.5-turbo", models("openai/gpt-3.5-turbo")) is None
    assert choose_model("openai/gpt-3.5-turbo", []) is None


def test_an_unknown_provider_is_not_matched_to_another_unknown_one():
    offered = models("zeta/eyes", "anthropic/claude-haiku-4-5")
    sees = {"zeta/eyes": True}
    assert choose_model("mystery/blind", offered, sees) == "anthropic/claude-haiku-4-5"


def test_vision_models_are_listed_alphabetically_whatever_the_case():
    offered = models("Zeta/eyes", "b/eyes", "a/eyes", "b/eyes")
    sees = {"Zeta/eyes": True, "b/eyes": True, "a/eyes": True}
    assert vision_models(offered, sees) == ["a/eyes", "b/eyes", "Zeta/eyes"]
    assert choose_model(None, offered, sees) == "a/eyes"


def test_the_users_overrides_decide_what_sees():
    offered = models("ollama/my-local", "openai/gpt-3.5-turbo")
    assert choose_model("openai/gpt-3.5-turbo", offered) is None
    assert choose_model("openai/gpt-3.5-turbo", offered, {"ollama/my-local": True}) == (
        "ollama/my-local"
    )


def test_the_estimate_is_each_images_cost_plus_the_prompt():
    mini = capability_for("openai/gpt-4o-mini")
    # 640×400: two tiles (2,833 + 2·5,667); 300×500: one (2,833 + 5,667); 550 prompt each.
    assert estimate_tokens(mini, [(640, 400), (300, 500)]) == 14_167 + 8_500 + 2 * 550
    claude = capability_for("anthropic/claude-haiku-4-5")
    assert estimate_tokens(claude, [(750, 100)]) == 100 + 550
    assert estimate_tokens(capability_for("letta/auto"), [(640, 400)]) is None
    assert estimate_tokens(mini, []) is None


def test_the_text_names_the_image_and_the_model():
    assert labelled(
        "Screenshot.png", "openai/gpt-4o-mini", "  A window.\nText in the image:\nOK\n"
    ) == (
        "[Image “Screenshot.png”, described by openai/gpt-4o-mini]\n"
        "A window.\nText in the image:\nOK"
    )


def test_the_helper_has_no_tools_and_no_memory():
    assert helper_spec("openai/gpt-4o-mini") == {
        "tags": [HELPER_TAG],
        "description": HELPER_DESCRIPTION,
        "system": SYSTEM_PROMPT,
        "include_base_tools": False,
        "include_base_tool_rules": False,
        "tool_ids": [],
        "memory_blocks": [],
        "enable_sleeptime": False,  # no sleep-time agent that could edit memory behind it
    }
    assert HELPER_DESCRIPTION.startswith("Made by Letta Desktop: describes images")
    assert "Text in the image:" in SYSTEM_PROMPT and "verbatim" in SYSTEM_PROMPT


# -- running ------------------------------------------------------------------------------------


class FakeStream:
    def __init__(self, events: list[Any], on_iter=None):
        self.events = events
        self.on_iter = on_iter
        self.closed = False
        self.cancelled = False

    def __iter__(self):
        for i, event in enumerate(self.events):
            if self.on_iter is not None:
                self.on_iter(i)
            if self.closed:
                yield StreamStop("cancelled")
                return
            if isinstance(event, Exception):
                raise event
            yield event

    def close(self) -> None:
        self.closed = True

    def cancel(self) -> None:
        self.close()
        self.cancelled = True


def reply(*pieces: str) -> list[Any]:
    return [
        *(StreamChunk("assistant_message:m1", "assistant", "assistant_message", p) for p in pieces),
        StreamStop("end_turn"),
    ]


class FakeClient:
    def __init__(self, agents: list[Agent] | None = None, streams: list[FakeStream] | None = None):
        self.agents = agents or []
        self.streams = streams or []
        self.calls: list[tuple] = []
        self.live: set[str] = set()
        self.sent: list[tuple[list[dict[str, Any]], str]] = []
        self._n = 0

    def find_agents(self, tag: str, *, limit: int = 20) -> list[Agent]:
        self.calls.append(("find", tag))
        return list(self.agents)

    def create_agent(self, name: str, model: str, **extra: Any) -> Agent:
        self.calls.append(("create", name, model, extra))
        return Agent("agent-new", name, model)

    def update_agent_model(self, agent_id: str, handle: str, context_window=None) -> Agent:
        self.calls.append(("update", agent_id, handle, context_window))
        return Agent(agent_id, HELPER_NAME, handle)

    def create_conversation(self, agent_id: str, summary: str | None = None) -> Any:
        self._n += 1
        conv = f"conv-{self._n}"
        self.live.add(conv)
        self.calls.append(("conversation", agent_id, summary))
        return type("C", (), {"id": conv})()

    def delete_conversation(self, conversation_id: str) -> None:
        self.live.discard(conversation_id)
        self.calls.append(("delete", conversation_id))

    def stream_message(self, agent_id, content, otid, conversation_id=None):
        self.calls.append(("send", agent_id, conversation_id, [p["type"] for p in content]))
        self.sent.append((content, otid))
        return self.streams.pop(0)


PART = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA=="}}


def test_each_image_gets_its_own_conversation_deleted_afterwards():
    client = FakeClient(streams=[FakeStream(reply("A ", "cat.")), FakeStream(reply("A dog."))])
    describer = Describer(client, "openai/gpt-4o-mini", 128_000)
    out = list(describer.describe_all([("a.png", PART), ("b.png", lambda: PART)]))
    assert out == [
        Starting(0, "a.png"),
        Described(0, "a.png", "[Image “a.png”, described by openai/gpt-4o-mini]\nA cat."),
        Starting(1, "b.png"),
        Described(1, "b.png", "[Image “b.png”, described by openai/gpt-4o-mini]\nA dog."),
    ]
    assert client.calls[1] == (
        "create",
        HELPER_NAME,
        "openai/gpt-4o-mini",
        {**helper_spec("openai/gpt-4o-mini"), "context_window_limit": 128_000},
    )
    assert client.calls[2:] == [
        ("conversation", "agent-new", "Describe a.png"),
        ("send", "agent-new", "conv-1", ["text", "image"]),
        ("delete", "conv-1"),
        ("conversation", "agent-new", "Describe b.png"),
        ("send", "agent-new", "conv-2", ["text", "image"]),
        ("delete", "conv-2"),
    ]


def test_each_request_names_its_image_and_has_its_own_otid():
    client = FakeClient(streams=[FakeStream(reply("A cat.")), FakeStream(reply("A dog."))])
    list(Describer(client, "openai/gpt-4o-mini").describe_all([("a.png", PART), ("b.png", PART)]))
    [(first, otid1), (second, otid2)] = client.sent
    assert first == [
        {"type": "text", "text": "Describe the image “a.png” and transcribe any text in it."},
        PART,
    ]
    assert second[0]["text"] == "Describe the image “b.png” and transcribe any text in it."
    # The otid is what a retry looks for in the history: one per request, never missing.
    assert isinstance(otid1, str) and len(otid1) == 36 and otid1 != otid2


def test_several_assistant_messages_are_kept_apart_by_a_blank_line():
    events = [
        StreamChunk("assistant_message:m1", "assistant", "assistant_message", "A window"),
        StreamChunk("reasoning_message:r1", "reasoning", "reasoning_message", "thinking"),
        StreamChunk("assistant_message:m1", "assistant", "assistant_message", " with text."),
        StreamChunk("assistant_message:m2", "assistant", "assistant_message", "  "),
        StreamChunk("assistant_message:m2", "assistant", "assistant_message", "\n"),
        StreamChunk("assistant_message:m3", "assistant", "assistant_message", "Text in the image:"),
        StreamStop("end_turn"),
    ]
    client = FakeClient(streams=[FakeStream(events)])
    [_, done] = Describer(client, "m/x").describe_all([("a.png", PART)])
    assert (
        done.text == "[Image “a.png”, described by m/x]\nA window with text.\n\nText in the image:"
    )


def test_a_run_cancelled_elsewhere_keeps_what_was_said_before_the_stop():
    events = [
        StreamChunk("assistant_message:m1", "assistant", "assistant_message", "A cat."),
        StreamStop("cancelled"),
        StreamChunk("assistant_message:m2", "assistant", "assistant_message", "Not read."),
    ]
    client = FakeClient(streams=[FakeStream(events)])
    assert Describer(client, "m/x").describe("agent-1", "a.png", PART) == "A cat."


def test_server_failures_while_cleaning_up_do_not_hide_the_outcome():
    class Flaky(FakeClient):
        def delete_conversation(self, conversation_id: str) -> None:
            raise LettaError("server gone")

    client = Flaky(streams=[FakeStream(reply("A cat."))])
    assert Describer(client, "m/x").describe("agent-1", "a.png", PART) == "A cat."

    class Uncancellable(FakeStream):
        def cancel(self) -> None:
            raise LettaError("cannot cancel")

    describer: Describer | None = None
    stream = Uncancellable(reply("A ", "cat."), on_iter=lambda i: i == 1 and describer.cancel())
    client = FakeClient(streams=[stream])
    describer = Describer(client, "m/x")
    with pytest.raises(DescribeCancelled):
        describer.describe("agent-1", "a.png", PART)
    assert client.live == set()


def test_the_helper_is_found_by_its_tag_and_switched_to_the_chosen_model():
    on_mini = Agent("agent-1", HELPER_NAME, "openai/gpt-4o-mini")
    client = FakeClient([on_mini])
    assert Describer(client, "openai/gpt-4o-mini").helper() is on_mini
    assert client.calls == [("find", HELPER_TAG)]
    client = FakeClient([Agent("agent-2", HELPER_NAME, "openai/gpt-4o"), on_mini])
    assert Describer(client, "openai/gpt-4o-mini").helper() is on_mini
    client = FakeClient([Agent("agent-2", HELPER_NAME, "openai/gpt-4o")])
    switched = Describer(client, "openai/gpt-4o-mini", 128_000).helper()
    assert switched.model == "openai/gpt-4o-mini"
    assert client.calls[-1] == ("update", "agent-2", "openai/gpt-4o-mini", 128_000)


def test_a_failure_still_deletes_the_conversation():
    refused = StreamFailed("The agent's model provider returned an error.")
    client = FakeClient(streams=[FakeStream([refused])])
    with pytest.raises(StreamFailed):
        list(Describer(client, "openai/gpt-4o-mini").describe_all([("a.png", PART)]))
    assert client.live == set() and client.calls[-1] == ("delete", "conv-1")


def test_an_empty_answer_is_a_failure_in_words():
    client = FakeClient(streams=[FakeStream(reply("  "))])
    with pytest.raises(DescriptionEmpty) as caught:
        list(Describer(client, "openai/gpt-4o-mini").describe_all([("a.png", PART)]))
    assert str(caught.value) == "openai/gpt-4o-mini gave no description of “a.png”."
    assert client.live == set()


def test_cancel_closes_the_stream_cancels_the_run_and_deletes_the_conversation():
    describer: Describer | None = None
    closed_at_once = []

    def cancel_mid_reply(i: int) -> None:
        if i == 1:
            describer.cancel()
            closed_at_once.append(stream.closed)

    stream = FakeStream(reply("A ", "cat", "."), on_iter=cancel_mid_reply)
    client = FakeClient(streams=[stream, FakeStream(reply("never"))])
    describer = Describer(client, "openai/gpt-4o-mini")
    seen = []
    with pytest.raises(DescribeCancelled):
        for item in describer.describe_all([("a.png", PART), ("b.png", PART)]):
            seen.append(item)
    assert seen == [Starting(0, "a.png")]
    assert stream.closed and stream.cancelled
    assert closed_at_once == [True]  # a worker blocked reading the stream wakes up now
    describer.cancel()  # again, after the end: harmless
    assert client.live == set() and len(client.streams) == 1  # b.png never went out


def test_cancel_after_a_description_is_harmless():
    client = FakeClient(streams=[FakeStream(reply("A cat."))])
    describer = Describer(client, "m/x")
    assert describer.describe("agent-1", "a.png", PART) == "A cat."
    describer.cancel()
    assert describer.cancelled


def test_cancel_before_anything_ran_sends_nothing():
    client = FakeClient(streams=[FakeStream(reply("x"))])
    describer = Describer(client, "openai/gpt-4o-mini")
    describer.cancel()
    with pytest.raises(DescribeCancelled):
        list(describer.describe_all([("a.png", PART)]))
    assert client.calls == []


# -- a turn refused because of images ---------------------------------------------------------


OPENAI_400 = (
    "INVALID_ARGUMENT: Bad request to OpenAI-compatible endpoint: Error code: 400 - {'error': "
    "{'message': 'Invalid content type. image_url is only supported by certain models.', "
    "'type': 'invalid_request_error', 'param': 'messages.[1].content.[1].type', 'code': None}}"
)


@pytest.mark.parametrize(
    "exc",
    [
        # What 0.16.8 streams (llm_api_error) and answers before a stream (400), verbatim.
        StreamFailed(
            "The agent's model provider returned an error. An error occurred with the LLM request.",
            detail=OPENAI_400,
        ),
        BadRequest(
            "The server refused the request: The request to the LLM model provider was invalid.",
            status=400,
            detail=OPENAI_400,
        ),
        StreamFailed("x", detail="Error: this model does not support image input"),
        StreamFailed("x", detail="Image input is not supported for this model"),
    ],
)
def test_a_refusal_of_images_is_told_with_the_way_out(exc):
    assert images_refused(exc)
    error = describe(exc)
    assert error.text == IMAGES_REFUSED and error.action is Action.SWITCH_MODEL
    assert IMAGES_REFUSED == (
        "The model provider refused the turn because of images: the agent's model cannot see"
        " them. Images already in this conversation's history make every later turn fail the"
        " same way. Switch back to a model that sees images, start a new conversation"
        " (Ctrl+Shift+N), or describe images as text instead of sending them."
    )


@pytest.mark.parametrize(
    "exc",
    [
        StreamFailed("The agent's model provider returned an error.", detail="rate limited"),
        BadRequest("The server refused the request: image too large", status=400),
        ValueError("image_url is only supported by certain models"),
    ],
)
def test_other_failures_are_not_taken_for_an_image_refusal(exc):
    assert not images_refused(exc)
    assert describe(exc).action is not Action.SWITCH_MODEL
