"""Pick one of the account's agents: paged, searchable by name, showing each agent's model."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QModelIndex, QObject, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QKeyEvent, QPainter, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.describer import HELPER_TAG
from desktop.core.letta import Agent
from desktop.ui.accessibility import fill_accessible_names
from desktop.ui.plain_text import plain_label, plain_tip
from desktop.ui.screen_fit import keep_on_screen
from desktop.ui.user_errors import describe
from desktop.workers import Task, Workers

PAGE_SIZE = 50
AgentRole = Qt.ItemDataRole.UserRole + 1


class _AgentDelegate(QStyledItemDelegate):
    """Two lines per agent: the name, and the model handle in a muted colour."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        fm = option.fontMetrics
        return QSize(200, fm.height() * 2 + 14)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        agent: Agent | None = index.data(AgentRole)
        self.initStyleOption(option, index)
        option.text = ""
        style = option.widget.style() if option.widget else None
        if style:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        if agent is None:
            return
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        pal = option.palette
        rect = option.rect.adjusted(10, 6, -10, -6)
        painter.save()
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(pal.highlightedText().color() if selected else pal.text().color())
        top = QRect(rect.left(), rect.top(), rect.width(), rect.height() // 2)
        painter.drawText(
            top,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            option.fontMetrics.elidedText(agent.name, Qt.TextElideMode.ElideRight, rect.width()),
        )
        painter.setFont(option.font)
        painter.setPen(pal.highlightedText().color() if selected else pal.placeholderText().color())
        bottom = QRect(
            rect.left(), rect.top() + rect.height() // 2, rect.width(), rect.height() // 2
        )
        painter.drawText(
            bottom,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            agent.model or "model unknown",
        )
        painter.restore()


class AgentPicker(QDialog):
    activated = Signal()  # became the active window

    def __init__(
        self,
        workers: Workers,
        list_agents: Callable[..., list[Agent]],
        current_agent_id: str | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        keep_on_screen(self)
        self._workers = workers
        self._list_agents = list_agents
        self._current = current_agent_id
        self._task: Task | None = None
        self._query = ""
        self._has_more = True
        self._loading = False
        self.selected_agent: Agent | None = None
        self.setWindowTitle("Choose an agent")
        self.resize(460, 520)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search agents by name")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search agents")
        self.search.setAccessibleDescription("Type to filter; Up and Down choose, Enter opens")
        self.model = QStandardItemModel(self)
        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setItemDelegate(_AgentDelegate(self.list))
        self.list.setAccessibleName("Agents")
        self.list.setAccessibleDescription("Enter opens the selected agent")
        self.list.setUniformItemSizes(True)
        self.status = plain_label()
        self.status.setWordWrap(True)
        self.status.setAccessibleDescription("Agent list status")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        self._open = buttons.button(QDialogButtonBox.StandardButton.Open)
        self._open.setEnabled(False)
        buttons.accepted.connect(self._accept_current)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self._restart)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.search.returnPressed.connect(self._accept_current)
        self.list.doubleClicked.connect(lambda _i: self._accept_current())
        self.list.activated.connect(lambda _i: self._accept_current())
        self.list.selectionModel().currentChanged.connect(
            lambda cur, _prev: self._open.setEnabled(cur.isValid())
        )
        self.list.verticalScrollBar().valueChanged.connect(self._maybe_load_more)
        self.search.installEventFilter(self)
        self.list.installEventFilter(self)
        self.search.setFocus()
        fill_accessible_names(self)
        self._restart()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        """Type-to-filter: arrows in the search field move through the list, and typing while
        the list has focus goes to the search field."""
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        key = event.key()
        if obj is self.search and key in (
            Qt.Key.Key_Up,
            Qt.Key.Key_Down,
            Qt.Key.Key_PageUp,
            Qt.Key.Key_PageDown,
        ):
            # Move the current row; the focus stays in the field.
            QApplication.sendEvent(self.list, QKeyEvent(event.type(), key, event.modifiers()))
            return True
        plain = not event.modifiers() & (
            Qt.KeyboardModifier.ControlModifier
            | Qt.KeyboardModifier.AltModifier
            | Qt.KeyboardModifier.MetaModifier
        )
        if obj is self.list and plain and event.text().isprintable() and event.text().strip():
            self.search.setFocus()
            self.search.insert(event.text())
            return True
        return False

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.search.setFocus()

    def open_catching_keys(self, typed_at: QWidget) -> None:
        """Show the picker without blocking, and send what is typed at `typed_at`'s window
        until the picker is active to its search field.

        It often opens by itself (connected, no agent yet) while the user is typing. A modal
        dialog would mark the main window blocked the moment it is shown, and Qt drops key
        events for a blocked window before any filter sees them: the first characters typed
        before the window manager activated the picker were lost."""
        relay = _KeysUntilActive(self, typed_at.window())
        self.finished.connect(relay.stop)
        self.show()
        self.activateWindow()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            self.activated.emit()

    def _restart(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._query = self.search.text().strip()
        self.model.clear()
        self._has_more = True
        self._loading = False
        self._load_page(None)

    def _load_page(self, after: str | None) -> None:
        if self._loading or not self._has_more:
            return
        self._loading = True
        self.status.setText("Loading agents…")
        self._task = self._workers.submit(
            self._list_agents,
            limit=PAGE_SIZE,
            after=after,
            query=self._query or None,
            on_result=self._on_page,
            on_error=self._on_error,
            owner=self,
        )

    def _on_page(self, agents: list[Agent]) -> None:
        self._loading = False
        self._has_more = len(agents) >= PAGE_SIZE
        needle = self._query.lower()
        for agent in agents:
            if needle and needle not in agent.name.lower():
                continue  # servers that ignore query_text still get a filtered list
            if HELPER_TAG in agent.tags:
                continue  # the app's own image describer is not a chat partner
            item = QStandardItem(agent.name)
            item.setData(agent, AgentRole)
            item.setData(
                f"{agent.name}, model {agent.model or 'unknown'}",
                Qt.ItemDataRole.AccessibleTextRole,
            )
            item.setToolTip(plain_tip(agent.id))
            item.setEditable(False)
            self.model.appendRow(item)
            if agent.id == self._current:
                self.list.setCurrentIndex(item.index())
        count = self.model.rowCount()
        if count == 0:
            self.status.setText(
                "No agents match."
                if self._query
                else "This account has no agents yet. Create one in Letta's ADE or "
                "with the API, then reopen this list."
            )
        else:
            self.status.setText(
                f"{count} agent{'s' if count != 1 else ''}"
                + (" — scroll for more" if self._has_more else "")
            )
        if not self.list.currentIndex().isValid() and count:
            self.list.setCurrentIndex(self.model.index(0, 0))
        self._maybe_load_more()

    def _on_error(self, exc: BaseException) -> None:
        self._loading = False
        self._has_more = False
        self.status.setText("Could not load agents: " + describe(exc).text)

    def _maybe_load_more(self, *_args: object) -> None:
        bar = self.list.verticalScrollBar()
        if self._has_more and not self._loading and bar.value() >= bar.maximum() - 4:
            last = self.model.item(self.model.rowCount() - 1)
            if last is not None:
                self._load_page(last.data(AgentRole).id)

    def _accept_current(self) -> None:
        index = self.list.currentIndex()
        if index.isValid():
            self.selected_agent = index.data(AgentRole)
            self.accept()

    def done(self, result: int) -> None:
        if self._task is not None:
            self._task.cancel()
        self._debounce.stop()
        super().done(result)


class _KeysUntilActive(QObject):
    """Forwards the text keys that reach `source`'s window to the picker's search field, until
    the picker is active (then keys go to it directly) or closed. Watches that one window's
    QWindow: its events only, never the whole application's."""

    def __init__(self, picker: AgentPicker, source: QWidget):
        super().__init__(picker)
        self._picker = picker
        self._watched = source.windowHandle()
        if self._watched is not None:
            self._watched.installEventFilter(self)
        picker.activated.connect(self.stop)

    def stop(self, *_args: object) -> None:
        if self._watched is not None:
            self._watched.removeEventFilter(self)
            self._watched = None

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        if event.modifiers() & (
            Qt.KeyboardModifier.ControlModifier
            | Qt.KeyboardModifier.AltModifier
            | Qt.KeyboardModifier.MetaModifier
        ):
            return False  # shortcuts keep working
        search = self._picker.search
        if event.key() == Qt.Key.Key_Backspace:
            search.backspace()
            return True
        if event.text().isprintable() and event.text():
            search.insert(event.text())
            return True
        return False
