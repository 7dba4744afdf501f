"""``SourcePositions`` on JetStream: a source's positions commit with the chunks it appends.

A source's positions are a message of partition 0 (``<ns>.logs.pos.<source>``), its payload
the positions, its ``Ls-Txn`` header a transaction number. Chunks of partition 0 go in the
same atomic batch as that message, as with one partition. Chunks of other partitions cannot
(an atomic batch is one stream's), so they go first, each partition's in one atomic batch
ending with a message ``<root>.pos.<source>`` numbered with the coming transaction and
saying how many chunks precede it; the positions message commits last, guarded on the
previous one's seq.

A crash between the two leaves chunks whose partition message is numbered past the committed
positions: ``_recover`` (before reading or writing positions) first rewrites the positions
message (so a writer still in flight fails its guard), then deletes those chunks, so the
source, resuming at its committed positions, stores them once: nothing lost, nothing
duplicated in the log. A subscription may have delivered them meanwhile (at least once, as
documented). A writer whose guard fails deletes its own early chunks and tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import orjson
from nats.js.errors import KeyWrongLastSequenceError, NotFoundError

from ..source_positions import Chunk
from .atomic import MAX_BATCH, publish_batch
from .logs_events import EventsPart, Message
from .logs_partitions import Partition, join
from .records import name_key

__all__ = ["PositionsPart"]

log = logging.getLogger(__name__)
H_TXN = "Ls-Txn"


class PositionsPart(EventsPart):
    """``SourcePositions``."""

    def _positions_subject(self, part: Partition, source: str) -> str:
        return self._conn.subject(part.root, "pos", name_key(source))

    async def _last_pos(self, part: Partition, source: str) -> tuple[bytes, int, int] | None:
        """The partition's last positions message of ``source``: (payload, seq, txn)."""
        try:
            msg = await self._conn.retrying(
                self._conn.js.get_last_msg, part.stream, self._positions_subject(part, source)
            )
        except NotFoundError:
            return None
        return msg.data or b"", msg.seq or 0, int((msg.headers or {}).get(H_TXN, 0))

    async def _positions(self, source: str) -> tuple[dict[str, str], int, int]:
        """A source's committed positions, their message's seq (0: none) and transaction."""
        found = await self._last_pos(self._parts[0], source)
        if found is None:
            return {}, 0, 0
        data, seq, txn = found
        return orjson.loads(data or b"{}"), seq, txn

    _clean: set[str]  # sources whose last write here committed, recovered since this start

    async def _recover(self, source: str) -> None:
        """Delete chunks of a transaction that never committed its positions (see above);
        nothing to do with one partition, nor for a source recovered by this node whose
        writes since all committed."""
        lead = self._parts[0]
        if len(self._parts) == 1:
            return
        while True:
            current, seq, txn = await self._positions(source)
            stale = []
            for part in self._parts[1:]:
                found = await self._last_pos(part, source)
                if found is not None and found[2] > txn:
                    stale.append((part, found))
            if not stale:
                return
            guard = {"Nats-Expected-Last-Subject-Sequence": str(seq), H_TXN: str(txn)}
            again = (self._positions_subject(lead, source), orjson.dumps(current), guard)
            try:
                lead.wrote(await publish_batch(self._conn, [again]))
            except KeyWrongLastSequenceError:
                continue  # a writer committed meanwhile: look again
            for part, (data, pos_seq, _) in stale:
                count = int(orjson.loads(data or b"{}").get("chunks", 0))
                await self._drop(part, [*range(pos_seq - count, pos_seq + 1)])
            log.warning("source %s: dropped chunks of an uncommitted write", source)
            return

    def append_at(
        self,
        source: str,
        chunks: Sequence[Chunk],
        positions: Mapping[str, str | None],
        now: int,
    ) -> list[int]:
        by_part: dict[int, list[tuple[int, Message]]] = {}
        for n, c in enumerate(chunks):
            message = self._message(c.group_id, c.stream_id, c.timestamps, c.messages, c.size, now)
            by_part.setdefault(self._part(c.group_id).number, []).append((n, message))
        if max((len(m) for m in by_part.values()), default=0) + 1 > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH - 1} chunks commit with a source's positions")

        async def put() -> list[int]:
            for c in chunks:
                await self._check_stream(c.group_id, c.stream_id)
            if source not in self._clean:
                await self._recover(source)
            self._clean.discard(source)  # until this write commits
            seqs = [0] * len(chunks)
            while True:
                current, seq, txn = await self._positions(source)
                early = []  # (partition, seqs) written before the positions
                for number, items in sorted(by_part.items()):
                    if number == 0:
                        continue
                    part = self._parts[number]
                    mark = (
                        self._positions_subject(part, source),
                        orjson.dumps({"chunks": len(items)}), {H_TXN: str(txn + 1)},
                    )  # fmt: skip
                    last = await publish_batch(self._conn, [*(m for _, m in items), mark])
                    part.wrote(last)
                    first = last - len(items)
                    early.append((part, [*range(first, last + 1)]))
                    for k, (n, _) in enumerate(items):
                        seqs[n] = join(number, first + k)
                for key, position in positions.items():
                    if position is None:
                        current.pop(key, None)
                    else:
                        current[key] = position
                lead = self._parts[0]
                guard = {"Nats-Expected-Last-Subject-Sequence": str(seq), H_TXN: str(txn + 1)}
                mark = (self._positions_subject(lead, source), orjson.dumps(current), guard)
                own = by_part.get(0, [])
                try:
                    last = await publish_batch(self._conn, [*(m for _, m in own), mark])
                except KeyWrongLastSequenceError:
                    for part, written in early:  # another writer of this source: undo, merge
                        await self._drop(part, written)
                    continue
                lead.wrote(last)
                first = last - len(own)
                for k, (n, _) in enumerate(own):
                    seqs[n] = join(0, first + k)
                self._clean.add(source)
                await self._trim(source, [lead, *(part for part, _ in early)])
                return seqs

        return list(self._run(put()))

    async def _trim(self, source: str, parts: Sequence[Partition]) -> None:
        """Keep only the newest positions messages; best effort (the next write too)."""
        for part in parts:
            try:
                await self._conn.js.purge_stream(
                    part.stream, subject=self._positions_subject(part, source), keep=1
                )
            except Exception as exc:  # committed already: never report it as failed
                log.warning("positions purge failed source=%s error=%s", source, exc)

    def positions(self, source: str) -> dict[str, str]:
        async def read() -> dict[str, str]:
            await self._recover(source)
            self._clean.add(source)
            return (await self._positions(source))[0]

        return dict(self._run(read()))

    def forget(self, source: str) -> None:
        async def forget() -> None:
            for part in self._parts:
                await self._conn.retrying(
                    self._conn.js.purge_stream, part.stream,
                    subject=self._positions_subject(part, source),
                )  # fmt: skip

        self._run(forget())
