"""``logsieve serve`` on an event log partitioned over three streams: the console's live tail
follows groups in different partitions together, each from its own cursor (event ids past
2**53, sent as strings), and a reconnect with ``Last-Event-ID`` resumes every one of them; a
node configured with another count than the namespace's refuses to start, in one line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from logsieve.storage.jetstream import JetStreamOptions
from tests.console.sse import Reader, signed_in
from tests.jetstream_server.conftest import environment
from tests.server import Server, client, free_port
from tests.waiting import wait_for

GROUPS = ["/pt/a", "/pt/b", "/pt/c"]


def _put(logs: Any, group: str, message: str) -> None:
    logs.put_log_events(
        logGroupName=group, logStreamName="s",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": message}],
    )  # fmt: skip


def test_a_tail_of_groups_in_three_partitions_sees_and_resumes_them_all(
    namespace: JetStreamOptions, tmp_path: Path
) -> None:
    env = {**environment(namespace), "LOGSIEVE_STORAGE_PARTITIONS": "3"}
    server = Server(tmp_path / "data", env=env, log_file=tmp_path / "log").start()
    try:
        logs = client(server)
        for group in GROUPS:
            logs.create_log_group(logGroupName=group)
            logs.create_log_stream(logGroupName=group, logStreamName="s")
            _put(logs, group, f"ERROR before {group}")
        web = signed_in(server.url)
        path = "/console/tail/stream?" + "&".join(f"group={g}" for g in GROUPS)
        path += "&pattern=ERROR"
        reader = Reader(web, path).start()
        wait_for(lambda: any(f.event == "ready" for f in reader.frames), 10, "the ready frame")
        for group in GROUPS:
            _put(logs, group, f"ERROR live {group}")
        wait_for(lambda: len(reader.events()) >= 3, 10, "an event of every group")
        assert sorted(e["message"] for e in reader.events()) == [f"ERROR live {g}" for g in GROUPS]
        ids = [e["id"] for e in reader.events()]
        assert all(isinstance(i, str) and i.isdigit() for i in ids), ids  # JS: no lost digits
        assert max(map(int, ids)) > 2**53  # a partition above 0: past a JavaScript number
        resume_from = reader.last_id()
        reader.close()

        for group in GROUPS:
            _put(logs, group, f"ERROR away {group}")
        again = Reader(web, path, headers={"Last-Event-ID": str(resume_from)}).start()
        wait_for(lambda: len(again.events()) >= 3, 10, "the events put while disconnected")
        assert sorted(e["message"] for e in again.events()) == [f"ERROR away {g}" for g in GROUPS]
        again.close()
    finally:
        server.stop()


def test_serve_with_another_count_than_the_namespaces_refuses_in_one_line(
    namespace: JetStreamOptions, tmp_path: Path
) -> None:
    env = {**environment(namespace), "LOGSIEVE_STORAGE_PARTITIONS": "3"}
    Server(tmp_path / "one", env=env, log_file=tmp_path / "one.log").start().stop()
    other = {**os.environ, **environment(namespace), "LOGSIEVE_STORAGE_PARTITIONS": "2",
             "HOME": str(tmp_path)}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "logsieve", "serve", "--port", str(free_port()),
         "--data-dir", str(tmp_path / "two")],
        env=other, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    lines = [line for line in done.stderr.strip().splitlines() if "nats error=" not in line]
    assert len(lines) == 1, done.stderr
    assert "partitions = 2" in lines[0] and "made with partitions = 3" in lines[0]
