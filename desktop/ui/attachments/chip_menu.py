"""A pending image's context menu (right-click or the Menu key on its chip).

Low detail is offered only where the agent's model has a detail setting (OpenAI's tile models:
`detail: low` costs their fixed base, e.g. 85 tokens, and sees a 512 px version); unchecked,
the provider decides (`auto`), which is the default.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMenu, QWidget

from desktop.core.attachments import Attachment, Kind
from desktop.core.images.limits import LOW_DETAIL
from desktop.ui.attachments.controller import AttachmentController

LOW_DETAIL_TEXT = "Low detail"
LOW_DETAIL_TIP = (
    "Send a small version of this image: the model sees it at 512 px for a fixed, small token "
    "cost. Unchecked, the model decides."
)


def chip_menu(
    parent: QWidget,
    controller: AttachmentController,
    att: Attachment,
    on_edit: Callable[[], None] | None = None,
) -> QMenu:
    menu = QMenu(parent)
    menu.setAccessibleName(f"Attachment {att.name}")
    if on_edit is not None and att.kind is not Kind.URL:  # the server fetches URL images
        menu.addAction("Crop and redact…", on_edit)
    if controller.offers_low_detail(att):
        low = menu.addAction(LOW_DETAIL_TEXT)
        low.setCheckable(True)
        low.setChecked(att.detail == LOW_DETAIL)
        low.setToolTip(LOW_DETAIL_TIP)
        low.setStatusTip(LOW_DETAIL_TIP)
        low.toggled.connect(lambda on: controller.set_detail(att, LOW_DETAIL if on else None))
        menu.setToolTipsVisible(True)
        menu.addSeparator()
    menu.addAction("Remove", lambda: controller.remove(att))
    return menu
