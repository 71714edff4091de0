"""What must hold before a message with images goes out (Qt-free).

`check_send(capability, attachments, history_image_count)` lists every reason the pending images
would be refused or degraded by the agent's model: it cannot see (or nobody knows), too many
images for one request (the conversation's earlier images count: Letta re-sends history), an
image still too large after fitting (the many-image rule lowers the cap), a format the provider
does not take, a request over the provider's byte limit. A problem with an `attachment_id`
belongs on that image's badge; the others are about the whole message.

Nothing here sends or changes anything; the UI decides (desktop/ui/vision/vision_guard.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from desktop.core.capabilities import ModelCapability, short_status
from desktop.core.images.limits import LOW_DETAIL
from desktop.core.images.prepared import format_size
from desktop.core.images.sniff import short_name

NO_VISION = "no_vision"
UNKNOWN_VISION = "unknown_vision"
TOO_MANY = "too_many"
TOO_LARGE = "too_large"
FORMAT = "format"
REQUEST_TOO_LARGE = "request_too_large"


class _Prepared(Protocol):
    media_type: str
    width: int
    height: int

    @property
    def size(self) -> int: ...


class PendingImage(Protocol):
    """What the guard reads from an attachment (desktop.core.attachments.Attachment fits)."""

    id: str
    name: str
    prepared: Any  # _Prepared | None (None: a URL, or not prepared)
    # optional `low_detail: bool`: prepared for (and sent with) `detail: low`


@dataclass(frozen=True)
class SendProblem:
    kind: str
    text: str
    attachment_id: str | None = None
    blocking: bool = True
    """False: worth saying, but sending is still allowed (unknown vision)."""


def model_name(cap: ModelCapability) -> str:
    """The handle's model part as written (`openai-proxy/gpt-3.5-turbo` → `gpt-3.5-turbo`)."""
    handle = cap.handle.strip()
    return handle.rsplit("/", 1)[-1] if handle else "this model"


def vision_mark(cap: ModelCapability) -> str:
    return {True: "✓", False: "✗"}.get(cap.vision, "?")  # type: ignore[arg-type]


def data_source(cap: ModelCapability) -> str:
    if cap.overridden:
        return "your setting for this model"
    if cap.pattern is None:
        return f"no entry in the app's model data ({cap.source})"
    return f"the app's model data ({cap.source})"


def no_vision_text(cap: ModelCapability, count: int) -> str:
    images = "an image" if count == 1 else f"{count} images"
    return (
        f"{model_name(cap)} cannot see images. If you send {images}, the model provider may "
        "reject the message (and a rejected image kept in the agent's history can break its "
        "later turns), or the agent is only told that an image exists."
    )


def unknown_vision_text(cap: ModelCapability) -> str:
    return (
        f"It is not known whether {model_name(cap)} can see images"
        + (" (a router may pick another model)." if cap.provider == "letta" else ".")
        + " Tell the app if you know."
    )


def likely_cause_text(cap: ModelCapability) -> str:
    return (
        f"The image was the likely cause: {model_name(cap)} cannot see images, and the provider "
        "refused the message. Switch the agent to a model that sees images, or send text only."
    )


def _counts_history(cap: ModelCapability) -> bool:
    # Letta re-sends the conversation every turn, so for every provider the request holds the
    # earlier images as well; none of the known providers exempts history from its count.
    return True


def image_tokens(cap: ModelCapability, image: PendingImage) -> int | None:
    prepared = image.prepared
    if prepared is None:
        return None
    detail = LOW_DETAIL if getattr(image, "low_detail", False) else None
    return cap.estimate_tokens(prepared.width, prepared.height, detail)


def message_tokens(cap: ModelCapability, images: Iterable[PendingImage]) -> int | None:
    """Sum of the known per-image estimates (None when none is known)."""
    known = [t for t in (image_tokens(cap, i) for i in images) if t is not None]
    return sum(known) if known else None


def check_send(
    cap: ModelCapability,
    images: Sequence[PendingImage],
    history_image_count: int = 0,
) -> list[SendProblem]:
    """Every reason `images` (the ready attachments of the next message) should not go out."""
    if not images:
        return []
    problems: list[SendProblem] = []
    if cap.vision is False:
        problems.append(SendProblem(NO_VISION, no_vision_text(cap, len(images))))
    elif cap.vision is None:
        problems.append(SendProblem(UNKNOWN_VISION, unknown_vision_text(cap), blocking=False))

    earlier = history_image_count if _counts_history(cap) else 0
    total = earlier + len(images)
    hard_edge = cap.hard_long_edge_for_count(total)
    many = (
        cap.many_image_threshold is not None
        and cap.many_image_max_edge is not None
        and total > cap.many_image_threshold
    )
    request_bytes = 0
    for index, image in enumerate(images):
        if cap.max_images is not None and earlier + index + 1 > cap.max_images:
            where = f" ({earlier} already in this conversation)" if earlier else ""
            problems.append(
                SendProblem(
                    TOO_MANY,
                    f"{image.name}: too many images for {model_name(cap)}: it takes at most "
                    f"{cap.max_images} in one request, the conversation included{where}.",
                    image.id,
                )
            )
            continue
        prepared = image.prepared
        if prepared is None:
            continue  # a URL: the server fetches it, its size is not known here
        request_bytes += math.ceil(prepared.size / 3) * 4
        long_edge = max(prepared.width, prepared.height)
        if hard_edge is not None and long_edge > hard_edge:
            why = (
                f"with more than {cap.many_image_threshold} images in the conversation "
                f"({total}), every image must be at most {hard_edge} px"
                if many
                else f"{model_name(cap)} takes at most {hard_edge} px per side"
            )
            problems.append(
                SendProblem(
                    TOO_LARGE,
                    f"{image.name}: {prepared.width}×{prepared.height} is too large — {why}.",
                    image.id,
                )
            )
        elif cap.max_pixels is not None and prepared.width * prepared.height > cap.max_pixels:
            problems.append(
                SendProblem(
                    TOO_LARGE,
                    f"{image.name}: {prepared.width}×{prepared.height} has more pixels than "
                    f"{model_name(cap)} takes ({cap.max_pixels:,}).",
                    image.id,
                )
            )
        elif prepared.size > cap.max_image_bytes:
            problems.append(
                SendProblem(
                    TOO_LARGE,
                    f"{image.name}: still {format_size(prepared.size)} after fitting; "
                    f"{model_name(cap)} takes at most {format_size(cap.max_image_bytes)}.",
                    image.id,
                )
            )
        if prepared.media_type not in cap.formats:
            accepted = ", ".join(sorted(short_name(f) for f in cap.formats))
            problems.append(
                SendProblem(
                    FORMAT,
                    f"{image.name}: {short_name(prepared.media_type)} is not a format "
                    f"{model_name(cap)} accepts ({accepted}).",
                    image.id,
                )
            )
    if cap.max_request_bytes is not None and request_bytes > cap.max_request_bytes:
        problems.append(
            SendProblem(
                REQUEST_TOO_LARGE,
                f"The images add up to {format_size(request_bytes)} encoded; {model_name(cap)} "
                f"takes at most {format_size(cap.max_request_bytes)} in one request. Remove "
                "some.",
            )
        )
    return problems


def status_line(cap: ModelCapability) -> str:
    """`gpt-4o-mini sees images` for tooltips and accessible names."""
    return f"{model_name(cap)} {short_status(cap)}"
