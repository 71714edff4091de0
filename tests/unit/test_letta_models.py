"""The API's JSON read into what the app shows: model lists, agents, history rows, image parts.

Servers differ (Letta Cloud, the open-source 0.16.8, older ones), so each reader takes several
shapes; these tests pin what each shape becomes, whole, the way the picker, the header and the
transcript show it."""

from __future__ import annotations

import base64

import pytest

from desktop.core.letta.models import (
    Agent,
    Conversation,
    ImageRef,
    Message,
    ModelInfo,
    ToolCall,
    approval_answer_text,
    content_text_and_images,
    tool_calls_of,
)

# -- the model list (Switch model…, Describe with…) -------------------------------------------


@pytest.mark.parametrize(
    "data, expected",
    [
        (  # Letta Cloud / 0.16.8 /v1/models/
            {
                "handle": "openai/gpt-4o-mini",
                "name": "gpt-4o-mini",
                "display_name": "GPT-4o mini",
                "provider_name": "openai",
                "provider_type": "openai",
                "max_context_window": 128000,
                "context_window": 32000,
            },
            ModelInfo("openai/gpt-4o-mini", "gpt-4o-mini", "GPT-4o mini", "openai", 128000),
        ),
        (  # an llm_config-shaped entry: `model`, `context_window`, `provider_type` only
            {"model": "claude-3-5-haiku", "provider_type": "anthropic", "context_window": 200000},
            ModelInfo(
                "claude-3-5-haiku", "claude-3-5-haiku", "claude-3-5-haiku", "anthropic", 200000
            ),
        ),
        (  # a name and nothing else
            {"name": "local-llava"},
            ModelInfo("local-llava", "local-llava", "local-llava", "", None),
        ),
        (  # a `model` and a `name` that differ: the handle is the model, the name the name
            {"model": "m-1", "name": "Model One"},
            ModelInfo("m-1", "Model One", "Model One", "", None),
        ),
        ({}, ModelInfo("?", "?", "?", "", None)),
    ],
)
def test_model_entries_of_every_shape(data, expected):
    assert ModelInfo.from_json(data) == expected


# -- agents (the picker, the header) --------------------------------------------------------


@pytest.mark.parametrize(
    "data, name, model",
    [
        ({"id": "a-1", "name": "Critic", "model": "openai/gpt-4o"}, "Critic", "openai/gpt-4o"),
        (  # 0.16.8: only llm_config, with a handle
            {"id": "a-2", "name": "Old", "llm_config": {"handle": "anthropic/claude-3-5-sonnet"}},
            "Old",
            "anthropic/claude-3-5-sonnet",
        ),
        (  # older: model + endpoint type, no handle
            {"id": "a-3", "llm_config": {"model": "gpt-4o", "model_endpoint_type": "openai"}},
            "a-3",
            "openai/gpt-4o",
        ),
        ({"id": "a-4", "llm_config": {"model": "llava"}}, "a-4", "llava"),
        ({"id": "a-5", "name": ""}, "a-5", None),
    ],
)
def test_agents_of_every_shape(data, name, model):
    agent = Agent.from_json(data)
    assert (agent.id, agent.name, agent.model) == (data["id"], name, model)


def test_an_agents_tools_tags_and_context_window():
    agent = Agent.from_json(
        {
            "id": "a",
            "tools": [{"name": "web_search"}, {"name": ""}, "junk", {"name": "send_message"}],
            "tags": ["vision", 3, "team"],
            "llm_config": {"context_window": 32000},
        }
    )
    assert agent.tool_names == frozenset({"web_search", "send_message"})
    assert agent.tags == frozenset({"vision", "team"})
    assert agent.context_window == 32000
    bare = Agent.from_json(
        {"id": "b", "tools": [], "tags": "x", "llm_config": {"context_window": "8k"}}
    )
    assert (bare.tool_names, bare.tags, bare.context_window) == (None, frozenset(), None)


# -- tool calls (parallel, streaming, deprecated) -----------------------------------------------


def test_tool_calls_in_each_shape_a_server_sends():
    parallel = {
        "tool_calls": [
            {"tool_call_id": "c1", "name": "search", "arguments": '{"q": 1}'},
            {"id": "c2", "name": "fetch"},
            "not a call",
        ]
    }
    assert tool_calls_of(parallel) == [
        ToolCall("c1", "search", '{"q": 1}'),
        ToolCall("c2", "fetch", ""),
    ]
    streaming = {"tool_calls": {"tool_call_id": "c3", "name": "x", "arguments": "{"}}
    assert tool_calls_of(streaming) == [ToolCall("c3", "x", "{")]
    deprecated = {"tool_calls": [], "tool_call": {"tool_call_id": "c4", "name": "old"}}
    assert tool_calls_of(deprecated) == [ToolCall("c4", "old", "")]
    assert tool_calls_of({"tool_call": {}}) == [ToolCall("", "", "")]
    assert tool_calls_of({}) == []


def test_a_tool_call_row_shows_every_calls_arguments():
    msg = Message.from_json(
        {
            "id": "m",
            "message_type": "tool_call_message",
            "tool_calls": [
                {"tool_call_id": "c1", "name": "search", "arguments": '{"q": "cats"}'},
                {"tool_call_id": "c2", "name": "fetch", "arguments": '{"url": "u"}'},
            ],
        }
    )
    assert (msg.kind, msg.tool_name, msg.tool_call_id) == ("tool_call", "search", "c1")
    assert msg.text == '{"q": "cats"}\n\n{"url": "u"}'
    empty = Message.from_json({"id": "n", "message_type": "tool_call_message", "tool_call": {}})
    assert (empty.tool_name, empty.tool_call_id, empty.text) == (None, None, "")


# -- tool returns ------------------------------------------------------------------------------

PNG_B64 = base64.b64encode(b"\x89PNG\r\n\x1a\n fake").decode()


def test_tool_returns_join_every_entry_and_an_error_wins():
    msg = Message.from_json(
        {
            "id": "r",
            "message_type": "tool_return_message",
            "tool_returns": [
                {"tool_call_id": "c1", "tool_return": "first", "status": "success"},
                "junk",
                {"tool_call_id": "c2", "content": [{"type": "text", "text": "second"}]},
                {
                    "tool_call_id": "c3",
                    "tool_return": [
                        {"type": "image", "source": {"type": "base64", "data": PNG_B64}}
                    ],
                    "status": "error",
                },
            ],
        }
    )
    assert msg.text == "first\n\nsecond"
    assert msg.status == "error"
    assert msg.tool_call_id == "c1"  # the first entry's
    assert [i.inline_bytes() for i in msg.images] == [base64.b64decode(PNG_B64)]
    assert "tool_returns" not in msg.raw  # the image's base64 is not kept twice


def test_a_tool_return_of_the_deprecated_single_shape():
    msg = Message.from_json(
        {
            "id": "r",
            "message_type": "tool_return_message",
            "tool_return": "42",
            "status": "success",
            "tool_call_id": "c9",
        }
    )
    assert (msg.text, msg.status, msg.tool_call_id, msg.images) == ("42", "success", "c9", [])
    bare = Message.from_json({"id": "s", "message_type": "tool_return_message"})
    assert (bare.text, bare.status, bare.tool_call_id) == ("", None, None)


def test_a_tool_return_status_falls_back_to_the_messages_own():
    msg = Message.from_json(
        {
            "id": "r",
            "message_type": "tool_return_message",
            "status": "success",
            "tool_returns": [{"tool_call_id": "c1", "tool_return": "ok"}],
        }
    )
    assert (msg.status, msg.tool_call_id) == ("success", "c1")


# -- approvals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, words",
    [
        ({"approvals": [{"approve": True}]}, "Approved"),
        ({"approvals": [{"approve": False, "reason": "too risky"}]}, "Denied: too risky"),
        ({"approve": False}, "Denied"),
        ({"approvals": [{"reason": "later"}]}, "Answered: later"),
        ({"approvals": ["junk"]}, "Answered"),
    ],
)
def test_approval_answers_in_words(data, words):
    assert approval_answer_text(data) == words


def test_an_approval_response_row_names_its_call():
    msg = Message.from_json(
        {
            "id": "a",
            "message_type": "approval_response_message",
            "approvals": [{"tool_call_id": "c7", "approve": True}],
        }
    )
    assert (msg.kind, msg.text, msg.tool_call_id) == ("approval", "Approved", "c7")


# -- other rows --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, kind, text",
    [
        ({"message_type": "reasoning_message", "reasoning": "thinking"}, "reasoning", "thinking"),
        (
            {"message_type": "hidden_reasoning_message", "hidden_reasoning": "secret"},
            "reasoning",
            "secret",
        ),
        ({"message_type": "summary_message", "summary": "so far"}, "summary", "so far"),
        ({"message_type": "summary_message"}, "summary", ""),
        (
            {"message_type": "event_message", "event_type": "compaction"},
            "event",
            "The conversation was compacted.",
        ),
        ({"message_type": "event_message", "event_type": "restart"}, "event", "restart"),
        ({"message_type": "event_message"}, "event", "event"),
        ({"message_type": "brand_new_message"}, "unknown", "(brand_new_message message)"),
        ({}, "unknown", "(unknown message)"),
        ({"message_type": "system_message", "content": "be brief"}, "system", "be brief"),
    ],
)
def test_rows_of_each_kind_say_what_they_are(data, kind, text):
    msg = Message.from_json({"id": "x", **data})
    assert (msg.kind, msg.text) == (kind, text)


def test_a_row_without_an_id_is_known_by_its_otid():
    assert Message.from_json({"otid": "o-1", "message_type": "user_message"}).id == "o-1"
    assert Message.from_json({"message_type": "user_message"}).id == ""


def test_user_content_text_parts_and_image_sources():
    text, images = content_text_and_images(
        [
            {"type": "text", "text": "look"},
            {"type": "text", "text": ""},
            {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}},
            {
                "type": "image",
                "source": {"type": "letta", "file_id": "f-1", "media_type": "image/png"},
            },
            {"type": "image", "source": {}},
            {"type": "image", "source": "junk"},
            "junk",
            {"type": "text", "text": "again"},
        ]
    )
    assert text == "look\nagain"
    assert images == [
        ImageRef("url", url="https://x/y.png"),
        ImageRef("letta", media_type="image/png", file_id="f-1"),
        ImageRef("unknown"),
    ]
    assert content_text_and_images(None) == ("", [])
    assert content_text_and_images("plain") == ("plain", [])
    assert content_text_and_images(42) == ("", [])


# -- image parts -------------------------------------------------------------------------------


def test_inline_image_data_round_trips_and_is_compared_by_value():
    ref = ImageRef("base64", "image/png", PNG_B64)
    assert ref.data == PNG_B64 and ref.has_data
    assert ref.inline_bytes() == base64.b64decode(PNG_B64)
    same, other = (
        ImageRef("base64", "image/png", PNG_B64),
        ImageRef("base64", "image/jpeg", PNG_B64),
    )
    assert ref == same and hash(ref) == hash(same) and ref != other
    assert len({ref, same, other}) == 2
    assert ref != "not an image"
    assert repr(ref) == (
        "ImageRef(source_type='base64', media_type='image/png', data=<13 bytes>, url=None, "
        "file_id=None)"
    )
    assert not ImageRef("url", url="u").has_data


def test_inline_data_that_is_not_canonical_base64_still_decodes_where_it_can():
    raw = b"\x00\x01image bytes\xff"
    wrapped = base64.encodebytes(raw).decode()  # line breaks: not canonical, kept as text
    assert ImageRef("base64", data=wrapped).inline_bytes() == raw
    data_url = "data:image/png;base64," + base64.b64encode(raw).decode()
    ref = ImageRef("base64", data=data_url)
    assert ref.inline_bytes() == raw and ref.data == data_url
    assert repr(ref).count(f"<{len(data_url)} bytes>") == 1
    with pytest.raises(ValueError, match=r"^not base64: "):
        ImageRef("base64", data="data:image/png;base64,@@@not base64@@@").inline_bytes()
    with pytest.raises(ValueError, match=r"^not base64: "):
        ImageRef("base64", data="QUJD!").inline_bytes()  # junk after valid base64


def test_an_image_part_cannot_be_changed():
    ref = ImageRef("url", url="https://x")
    with pytest.raises(AttributeError, match="immutable"):
        ref.url = "https://elsewhere"  # type: ignore[misc]


# -- conversations -----------------------------------------------------------------------------


def test_conversations_from_cloud_and_from_0_16_8():
    cloud = Conversation.from_json(
        {"id": "c-1", "agent_id": "a", "description": "Trip plans", "model": "openai/gpt-4o"}
    )
    assert (cloud.summary, cloud.model) == ("Trip plans", "openai/gpt-4o")
    oss = Conversation.from_json(
        {"id": "c-2", "summary": "Old thread", "model": "", "created_at": "2026-01-01"}
    )
    assert (oss.summary, oss.model, oss.created_at) == ("Old thread", None, "2026-01-01")
    assert Conversation.from_json({"id": "c-3", "summary": "", "model": 7}).summary is None


# -- shapes the first version of these tests missed ------------------------------------------


def test_a_model_entry_with_a_handle_and_a_model_but_no_name():
    info = ModelInfo.from_json({"handle": "openai/gpt-4o", "model": "gpt-4o"})
    assert (info.handle, info.name, info.display_name) == (
        "openai/gpt-4o",
        "gpt-4o",
        "openai/gpt-4o",
    )


def test_odd_image_data_is_kept_as_the_server_sent_it():
    # Decodes, but is not what encoding gives back (padding bits set): kept as text, so `data`
    # is the server's own string.
    assert ImageRef("base64", data="QR==").data == "QR=="
    assert ImageRef("base64", data="QR==").inline_bytes() == b"A"
    assert ImageRef("url", url="https://x").inline_bytes() == b""
    with pytest.raises(ValueError, match=r"^not base64: "):
        ImageRef("base64", data="data:image/png;base64,QUJD,REVG").inline_bytes()


def test_rows_keep_their_message_type_and_empty_reasoning_is_empty():
    assert Message.from_json({"id": "u", "message_type": "user_message"}).message_type == (
        "user_message"
    )
    assert Message.from_json({"id": "r", "message_type": "reasoning_message"}).text == ""


@pytest.mark.parametrize("approvals", [[], ["junk"], {"tool_call_id": "c1"}])
def test_an_approval_response_with_odd_answers_still_reads(approvals):
    msg = Message.from_json(
        {"id": "a", "message_type": "approval_response_message", "approvals": approvals}
    )
    assert (msg.text, msg.tool_call_id) == ("Answered", None)


def test_a_tool_returns_own_call_id_wins_over_its_entries():
    msg = Message.from_json(
        {
            "id": "r",
            "message_type": "tool_return_message",
            "tool_call_id": "own",
            "tool_returns": [{"tool_call_id": "entry", "tool_return": "x"}],
        }
    )
    assert msg.tool_call_id == "own"
    junk = Message.from_json(
        {"id": "s", "message_type": "tool_return_message", "tool_returns": ["junk"]}
    )
    assert (junk.tool_call_id, junk.text) == (None, "")


def test_an_empty_tool_returns_list_falls_back_to_the_single_return():
    msg = Message.from_json(
        {"id": "r", "message_type": "tool_return_message", "tool_returns": [], "tool_return": "42"}
    )
    assert msg.text == "42"


def test_the_first_entrys_status_when_none_failed():
    msg = Message.from_json(
        {
            "id": "r",
            "message_type": "tool_return_message",
            "tool_returns": [
                {"tool_call_id": "c1", "tool_return": "a", "status": "success"},
                {"tool_call_id": "c2", "tool_return": "b", "status": "pending"},
            ],
        }
    )
    assert msg.status == "success"


def test_a_conversation_keeps_its_last_activity_and_its_fields():
    data = {"id": "c-1", "last_message_at": "2026-03-01T10:00:00Z", "extra": 1}
    conv = Conversation.from_json(data)
    assert conv.last_message_at == "2026-03-01T10:00:00Z" and conv.raw == data
