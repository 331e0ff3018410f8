"""The verdict reads the print-and-post folder as the post would: one manifest line per letter
handed over, each with its PDF (unit tier: a folder written as messaging's LetterFolder does)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.chaos.verdict import handed_over


def post(folder: Path, message_id: str, *, pdf: bool = True) -> None:
    folder.mkdir(exist_ok=True)
    if pdf:
        (folder / f"{message_id}.pdf").write_bytes(b"%PDF-1.7")
    with (folder / "manifest.jsonl").open("a", encoding="utf-8") as manifest:
        manifest.write(json.dumps({"message_id": message_id, "file": f"{message_id}.pdf"}) + "\n")


def test_the_manifest_counts_each_letter_and_a_second_posting_shows(tmp_path: Path) -> None:
    letters = tmp_path / "letters"
    post(letters, "m-1")
    post(letters, "m-2")
    post(letters, "m-2")  # handed over twice: the debtor got two letters
    (letters / "m-3.pdf").write_bytes(b"%PDF-1.7")  # written, never handed over
    lines, pdfs = handed_over(letters)
    assert lines == {"m-1": 1, "m-2": 2}
    assert pdfs == {"m-1", "m-2", "m-3"}  # the manifest itself is not a letter


def test_a_run_that_posted_nothing_has_an_empty_folder(tmp_path: Path) -> None:
    assert handed_over(tmp_path / "letters") == ({}, set())
