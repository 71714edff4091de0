"""A rejection keeps its words, reason and file name when it crosses a process boundary."""

from __future__ import annotations

import pickle

from desktop.core.images import ImageRejected, errors


def test_a_rejection_survives_pickling_whole():
    rejected = ImageRejected(errors.EMPTY, "The file is empty.").for_file("shot.png")
    back = pickle.loads(pickle.dumps(rejected))
    assert (back.reason, back.message, back.filename) == (
        errors.EMPTY,
        "The file is empty.",
        "shot.png",
    )
    assert str(back) == "shot.png: The file is empty."
    plain = pickle.loads(pickle.dumps(ImageRejected(errors.DAMAGED, "Damaged.")))
    assert (plain.reason, str(plain), plain.filename) == (errors.DAMAGED, "Damaged.", None)
