"""Describe images for an agent that cannot see them (Qt-free).

A blind agent must never get an image into its history: every later turn on its text-only model
would fail with the provider's 400. Instead a vision model of the same Letta account looks at the
image and the blind agent gets text the user has read and may edit.

The vision model is reached through a helper agent the app creates once per server, found again
by its tag: no tools and no memory blocks (0.16.8 attaches `conversation_search`,
`memory_insert` and `memory_replace` unless `include_base_tools` is False — checked on the real
server), so it can neither edit memory nor call anything. Each description runs in a fresh
conversation of the helper that is deleted afterwards (0.16.8 deletes its messages with it), so
the helper's own history never grows into a pile of images that every later request re-sends.

Everything here makes requests: it runs on a worker (desktop/workers.py); `cancel()` may be
called from any thread.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from desktop.core.capabilities import ModelCapability, capability_for, split_handle
from desktop.core.letta import parts
from desktop.core.letta.errors import LettaError
from desktop.core.letta.models import Agent, ModelInfo, StreamChunk, StreamStop
from desktop.core.letta.urls import new_otid

HELPER_NAME = "Letta Desktop image describer"
HELPER_TAG = "letta-desktop:image-describer"
HELPER_DESCRIPTION = (
    "Made by Letta Desktop: describes images for agents whose model cannot see. Each description"
    " runs in its own conversation, deleted afterwards. Safe to delete; the app makes it again."
)

SYSTEM_PROMPT = """\
You describe images for another AI agent that cannot see them. The user reviews your answer \
and sends it to that agent as text, so it must stand in for the image.

Describe faithfully what the image shows: its kind (screenshot, photo, chart, diagram, \
document…), the layout, the important elements and their state, colours where they matter, \
and any numbers, values or errors shown. For a screenshot, say which application or web page \
it seems to be and what is on screen. Do not guess beyond what is visible and do not give \
advice or opinions.

Then transcribe every piece of legible text in the image verbatim, in reading order, one \
element per line, keeping the original spelling, language, case, punctuation and line \
breaks; write [illegible] for text you cannot read. Code, commands and error messages are \
copied exactly.

Answer in exactly this form and nothing else:
<the description>
Text in the image:
<the transcription, or (none)>"""

PROMPT_TOKENS = 400
"""The system prompt and the request's text in tokens (≈ 1,600 characters / 4), rounded up; the
reply is about as long again, which the estimate leaves out: it varies with the image."""

OVERHEAD_TOKENS = 150
"""What the server adds around the system prompt per request (its memory metadata block)."""


def request_text(name: str) -> str:
    return f"Describe the image “{name}” and transcribe any text in it."


def helper_spec(model: str) -> dict[str, Any]:
    """The body of `POST /v1/agents/` for the helper (besides `name` and `model`)."""
    return {
        "tags": [HELPER_TAG],
        "description": HELPER_DESCRIPTION,
        "system": SYSTEM_PROMPT,
        # No conversation_search / memory_insert / memory_replace: nothing to call, nothing to
        # remember between images.
        "include_base_tools": False,
        "include_base_tool_rules": False,
        "tool_ids": [],
        "memory_blocks": [],
        "enable_sleeptime": False,
    }


def labelled(name: str, model: str, reply: str) -> str:
    """The text that goes into the composer for one image."""
    return f"[Image “{name}”, described by {model}]\n{reply.strip()}"


def vision_models(
    models: Sequence[ModelInfo], overrides: Mapping[str, bool] | None = None
) -> list[str]:
    """The handles of the server's models that can see (the user's overrides included)."""
    return sorted(
        {m.handle for m in models if capability_for(m.handle, overrides).vision is True},
        key=str.lower,
    )


def choose_model(
    agent_handle: str | None,
    models: Sequence[ModelInfo],
    overrides: Mapping[str, bool] | None = None,
    preferred: str | None = None,
) -> str | None:
    """The model that describes: the user's choice when the server offers it and it sees, else a
    vision model of the agent's own provider (same handle prefix, then same provider profile),
    else any vision model the server offers. None: the server offers none."""
    seeing = vision_models(models, overrides)
    if preferred and preferred in seeing:
        return preferred
    if not seeing:
        return None
    if agent_handle:
        host = split_handle(agent_handle)[0]
        same_host = [h for h in seeing if split_handle(h)[0] == host]
        if same_host:
            return same_host[0]
        provider = capability_for(agent_handle, overrides).provider
        if provider != "unknown":
            same = [h for h in seeing if capability_for(h, overrides).provider == provider]
            if same:
                return same[0]
    return seeing[0]


def estimate_tokens(cap: ModelCapability, sizes: Sequence[tuple[int, int]]) -> int | None:
    """Input tokens of describing images of these sizes with `cap`'s model, one request each
    (None when the model's image cost is not known)."""
    per_image = [cap.estimate_tokens(w, h) for w, h in sizes]
    if not per_image or any(t is None for t in per_image):
        return None
    return sum(t for t in per_image if t is not None) + len(sizes) * (
        PROMPT_TOKENS + OVERHEAD_TOKENS
    )


class DescribeCancelled(Exception):
    """The user cancelled: nothing goes into the composer."""


class DescriptionEmpty(LettaError):
    """The vision model answered with no text."""


class _Client(Protocol):
    def find_agents(self, tag: str, *, limit: int = ...) -> list[Agent]: ...
    def create_agent(self, name: str, model: str, **extra: Any) -> Agent: ...
    def update_agent_model(
        self, agent_id: str, handle: str, context_window: int | None = ...
    ) -> Agent: ...
    def create_conversation(self, agent_id: str, summary: str | None = ...) -> Any: ...
    def delete_conversation(self, conversation_id: str) -> None: ...
    def stream_message(
        self,
        agent_id: str,
        content: list[dict[str, Any]],
        otid: str,
        conversation_id: str | None = ...,
    ) -> Any: ...


@dataclass(frozen=True)
class Starting:
    """One image is about to be described (for the progress line)."""

    index: int
    name: str


@dataclass(frozen=True)
class Described:
    """One image done: its place in the batch and the text for the composer."""

    index: int
    name: str
    text: str


class Describer:
    """Describes images one by one with `model` through the helper agent on `client`'s server."""

    def __init__(self, client: _Client, model: str, context_window: int | None = None):
        self._client = client
        self.model = model
        self._context_window = context_window
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._stream: Any = None

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        """Stop at once (any thread; never blocks on the network): the open stream is closed,
        the worker then cancels the run and deletes the conversation."""
        self._cancelled.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.close()

    def _check(self) -> None:
        if self._cancelled.is_set():
            raise DescribeCancelled

    def helper(self) -> Agent:
        """The server's helper agent on `model`: found by its tag (the oldest first), switched to
        `model` when the user chose another, or created."""
        client = self._client
        found = client.find_agents(HELPER_TAG)
        self._check()
        for agent in found:
            if agent.model == self.model:
                return agent
        if found:
            return client.update_agent_model(found[0].id, self.model, self._context_window)
        extra = helper_spec(self.model)
        if self._context_window:
            extra["context_window_limit"] = self._context_window
        return client.create_agent(HELPER_NAME, self.model, **extra)

    def describe_all(self, images: Sequence[tuple[str, Any]]) -> Iterator[Starting | Described]:
        """Describe each `(name, part)` in order (`part`: a content part, or a function that
        returns one — called here, on the worker). Raises DescribeCancelled, LettaError."""
        self._check()
        helper = self.helper()
        for index, (name, part) in enumerate(images):
            self._check()
            yield Starting(index, name)
            content = part() if callable(part) else part
            self._check()
            reply = self.describe(helper.id, name, content)
            yield Described(index, name, labelled(name, self.model, reply))

    def describe(self, helper_id: str, name: str, image_part: dict[str, Any]) -> str:
        """One image in a fresh conversation of the helper, deleted afterwards."""
        client = self._client
        conversation = client.create_conversation(helper_id, summary=f"Describe {name}")
        try:
            self._check()
            content = [parts.text_part(request_text(name)), image_part]
            stream = client.stream_message(helper_id, content, new_otid(), conversation.id)
            with self._lock:
                self._stream = stream
            if self._cancelled.is_set():
                stream.close()
            try:
                reply = _assistant_text(stream)
            finally:
                with self._lock:
                    self._stream = None
            if self._cancelled.is_set():
                with contextlib.suppress(LettaError):
                    stream.cancel()  # the run goes on server-side in background mode
                raise DescribeCancelled
        finally:
            with contextlib.suppress(LettaError):
                client.delete_conversation(conversation.id)
        if not reply.strip():
            raise DescriptionEmpty(f"{self.model} gave no description of “{name}”.")
        return reply


def _assistant_text(stream: Any) -> str:
    """The assistant's words of a reply stream (several assistant messages: one after another,
    a blank line between)."""
    pieces: dict[str, list[str]] = {}
    for event in stream:
        if isinstance(event, StreamStop) and event.reason == "cancelled":
            break
        if isinstance(event, StreamChunk) and event.kind == "assistant":
            pieces.setdefault(event.key, []).append(event.text)
    return "\n\n".join("".join(p).strip() for p in pieces.values() if "".join(p).strip())
