"""Where standing subscriptions (alert rules) start reading, and that it survives upgrades."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from logsieve.storage.factory import open_stores
from logsieve.subscriptions.standing import Standing, resolve

RULE = Standing("alert:errors", "ERROR", ("/old", "/new"), "logsieve:alert:errors")


def test_groups_older_than_the_activation_start_at_the_end_of_the_log(tmp_path: Path) -> None:
    store = open_stores(tmp_path).logs()
    try:
        old = store.create_group("/old", 1_000, None, "STANDARD")
        stream = store.create_stream(old.id, "s", 1_000)
        store.append(old.id, stream.id, [1_000], ["ERROR before"], 12, 1_000)
        (item,) = resolve(store, [RULE], 2_000)
        assert item.creation_time == 2_000 and store.cursor(item.consumer) == store.last_seq()
        new = store.create_group("/new", 3_000, None, "STANDARD")
        items = resolve(store, [RULE], 4_000)  # activated once: still 2,000
        assert [(i.group_name, i.creation_time) for i in items] == [
            ("/old", 2_000), ("/new", 2_000),
        ]  # fmt: skip
        assert store.cursor(items[1].consumer) == 0 and items[1].group_id == new.id
    finally:
        store.close()


def test_activation_times_written_as_cursors_by_older_versions_are_read(tmp_path: Path) -> None:
    """A data directory from before ``consumer_state``: the activation time was a cursor."""
    stores = open_stores(tmp_path)
    store = stores.logs()
    store.commit_cursor("standing-activated/alert:errors", 2_000)  # what older versions wrote
    store.create_group("/new", 3_000, None, "STANDARD")
    store.close()
    with sqlite3.connect(stores.path("logs")) as conn:  # and they had no such table
        conn.execute("DROP TABLE consumer_state")
    conn.close()
    again = stores.logs()
    try:
        (item,) = resolve(again, [RULE], 9_000)
        assert item.creation_time == 2_000  # not 9,000: /new was created after activation
        assert again.cursor(item.consumer) == 0
        assert again.cursor("standing-activated/alert:errors") == 0  # moved, not copied
    finally:
        again.close()
