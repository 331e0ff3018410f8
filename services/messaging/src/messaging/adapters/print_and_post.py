"""Letters to a print-and-post service; locally a folder of PDFs with a manifest.

The manifest (`manifest.jsonl`, one JSON line per letter handed over) is what a print shop
would receive; its lines are the channel's log, searched by message id. A real postal API goes
behind the same two methods.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from messaging.domain.sms import sms_parts
from messaging.service_layer.channels import Rendered


@dataclass
class LetterFolder:
    """The letter channel on a local folder."""

    root: Path

    @property
    def manifest(self) -> Path:
        """One line per letter handed over."""
        return self.root / "manifest.jsonl"

    def _hand_over(self, message_id: str, recipient: str, rendered: Rendered) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        pdf = self.root / f"{message_id}.pdf"
        pdf.write_bytes(rendered.pdf)
        line = {
            "message_id": message_id,
            "file": pdf.name,
            "sha256": hashlib.sha256(rendered.pdf).hexdigest(),
            "address": recipient.splitlines(),
            "subject": rendered.subject,
            "handed_over_at": datetime.now(UTC).isoformat(),
        }
        with self.manifest.open("a", encoding="utf-8") as out:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            out.flush()
            os.fsync(out.fileno())
        return f"{self.manifest.name}:{message_id}"

    async def send(self, message_id: str, recipient: str, rendered: Rendered) -> str:
        """Write the PDF, then its manifest line."""
        if not rendered.pdf:
            raise ValueError("a letter needs its PDF")
        return await asyncio.to_thread(self._hand_over, message_id, recipient, rendered)

    def _count(self, message_id: str) -> int:
        if not self.manifest.exists():
            return 0
        with self.manifest.open(encoding="utf-8") as lines:
            return sum(1 for line in lines if json.loads(line)["message_id"] == message_id)

    async def copies(self, message_id: str) -> int:
        """How many manifest lines name this message."""
        return await asyncio.to_thread(self._count, message_id)

    def _read(self, message_id: str) -> bytes | None:
        pdf = self.root / f"{message_id}.pdf"
        return pdf.read_bytes() if pdf.exists() else None

    async def copy_of(self, message_id: str) -> bytes | None:
        """The PDF handed over (written before its manifest line), None before it was."""
        return await asyncio.to_thread(self._read, message_id)


@dataclass
class SmsSink:
    """The SMS channel's local sink: one JSON line per text; an SMS gateway goes behind it."""

    path: Path

    def _append(self, message_id: str, recipient: str, rendered: Rendered) -> str:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = {
            "message_id": message_id,
            "to": recipient,
            "text": rendered.text,
            "parts": sms_parts(rendered.text),  # what a gateway bills
        }
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            out.flush()
            os.fsync(out.fileno())
        return f"{self.path.name}:{message_id}"

    async def send(self, message_id: str, recipient: str, rendered: Rendered) -> str:
        """Append the text."""
        return await asyncio.to_thread(self._append, message_id, recipient, rendered)

    def _count(self, message_id: str) -> int:
        if not self.path.exists():
            return 0
        with self.path.open(encoding="utf-8") as lines:
            return sum(1 for line in lines if json.loads(line)["message_id"] == message_id)

    async def copies(self, message_id: str) -> int:
        """How many texts carry this message id."""
        return await asyncio.to_thread(self._count, message_id)

    async def copy_of(self, message_id: str) -> bytes | None:
        """A text carries no PDF."""
        return None
