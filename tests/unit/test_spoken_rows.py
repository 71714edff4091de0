"""What a screen reader says for an agent's Markdown reply: the words, not the marks."""

from __future__ import annotations

import pytest

from desktop.ui.transcript.spoken import MAX_SPOKEN, spoken_text

REPLY = """# Fixing the build

Run **`make test`** and read [the guide](https://example.com/guide).

> Note: *never* push to `main`.

| step | result |
|------|--------|
| lint | ok |

```bash
make test
```
![the failing output](shot.png) in snake_case_file.py"""


def test_a_markdown_reply_is_said_as_words():
    assert spoken_text(REPLY) == (
        "Fixing the build\n\n"
        "Run make test and read the guide.\n"
        "Note: never push to main.\n\n"
        "step, result\n"
        "lint, ok\n\n"
        "make test\n\n"
        "image the failing output in snake_case_file.py"
    )


@pytest.mark.parametrize("text", ["2 * 3 = 6, a_b_c", "**", "plain words"])
def test_text_without_marks_is_said_as_it_is(text):
    assert spoken_text(text) == text


def test_a_user_message_is_said_verbatim_and_a_huge_row_is_cut():
    assert spoken_text("I typed **this**", markdown=False) == "I typed **this**"
    said = spoken_text("word " * 10_000)
    assert len(said) <= MAX_SPOKEN + 2 and said.endswith(" …")
