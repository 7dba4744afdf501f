// logsieve console, live tail: follows /console/tail/stream (server-sent events) and draws
// the rows, newest at the bottom. Pauses when the reader scrolls up, opens a row, or presses
// space; an "N new" pill counts what arrived meanwhile. The browser's EventSource reconnects
// by itself and sends Last-Event-ID, so the server resumes where the page left off.
// The page keeps the last 5,000 events as a virtual list: every row has one fixed height
// (measured once, again on resize), only the rows in view (and a few around them) are in
// the DOM, padding above and below stands for the others, and the row elements are reused as
// the window moves. New events and scrolls are drawn once an animation frame, reading the
// scroll position first and writing after, so neither following nor scrolling back through
// the 5,000 ever lays out more than the visible rows (bench/console.py).
(() => {
  "use strict";
  const MAX_ROWS = 5000; // events kept
  const OVERSCAN = 10; // rows drawn above and below the visible ones
  const NEAR_BOTTOM = 40; // px: "at the bottom" for the scroll-to-pause rule

  function iso(ms) { return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1Z"); }
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function severity(message) {
    if (/\b(ERROR|FATAL|CRITICAL|Exception)\b/i.test(message)) return "sev-error";
    if (/\bWARN(ING)?\b/i.test(message)) return "sev-warn";
    return "";
  }
  function escapeRe(text) { return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }

  // The message with every highlight term wrapped in <mark class="hl-N"> (no innerHTML).
  function highlighted(message, terms) {
    const span = el("span", "msg");
    if (!terms.length) { span.textContent = message; return span; }
    const re = new RegExp(terms.map(escapeRe).join("|"), "gi");
    let at = 0;
    for (const m of message.matchAll(re)) {
      span.append(message.slice(at, m.index));
      const index = terms.findIndex((t) => t.toLowerCase() === m[0].toLowerCase());
      span.append(el("mark", `hl-${Math.max(0, index)}`, m[0]));
      at = m.index + m[0].length;
    }
    span.append(message.slice(at));
    return span;
  }

  // A JSON value drawn as indented text whose leaves are clickable fields.
  function jsonTree(value, path, indent, out) {
    const pad = "  ".repeat(indent);
    if (value !== null && typeof value === "object") {
      const isArray = Array.isArray(value);
      const entries = isArray ? value.map((v, i) => [i, v]) : Object.entries(value);
      out.append(isArray ? "[\n" : "{\n");
      entries.forEach(([key, item], i) => {
        out.append(pad + "  " + (isArray ? "" : JSON.stringify(String(key)) + ": "));
        const sub = isArray ? `${path}[${key}]` : (/^[A-Za-z_][\w-]*$/.test(key) ? `${path}.${key}` : `${path}.${JSON.stringify(key)}`);
        jsonTree(item, sub, indent + 1, out);
        out.append(i < entries.length - 1 ? ",\n" : "\n");
      });
      out.append(pad + (isArray ? "]" : "}"));
      return;
    }
    const leaf = el("span", "jf", JSON.stringify(value));
    leaf.dataset.path = path;
    leaf.dataset.value = JSON.stringify(value);
    leaf.title = `Filter on ${path}`;
    out.append(leaf);
  }

  // `{ $.f = "v" }`, joined with && to a JSON pattern already in the box.
  function withClause(pattern, path, value) {
    let clause;
    if (value === null) clause = `${path} IS NULL`;
    else if (value === true || value === false) clause = `${path} IS ${value ? "TRUE" : "FALSE"}`;
    else if (typeof value === "number") clause = `${path} = ${value}`;
    else clause = `${path} = ${JSON.stringify(String(value))}`;
    const current = pattern.trim();
    if (current.startsWith("{") && current.endsWith("}")) {
      return `${current.slice(0, -1).trimEnd()} && ${clause} }`;
    }
    return `{ ${clause} }`;
  }

  // The detail of an opened row: the JSON as a tree of clickable fields, or the plain text.
  function detailOf(event) {
    const detail = el("div", "detail");
    const pre = el("pre", "msg");
    let parsed;
    try { parsed = JSON.parse(event.message); } catch (e) { parsed = undefined; }
    if (parsed !== undefined && parsed !== null && typeof parsed === "object") jsonTree(parsed, "$", 0, pre);
    else pre.textContent = event.message;
    detail.append(pre);
    return detail;
  }

  function start(box) {
    const rows = document.getElementById("tail-rows");
    const pill = document.getElementById("tail-pill");
    const state = document.getElementById("tail-state");
    const count = document.getElementById("tail-count");
    const sampledNote = document.getElementById("tail-sampled");
    const pauseButton = document.getElementById("tail-pause");
    const form = document.getElementById("tail-form");
    const patternBox = form.querySelector("input[name=pattern]");
    const terms = (box.dataset.highlight || "").split("\n").filter(Boolean);
    let paused = "", pending = [], received = 0, connected = false;
    let expectedTop = null; // where render() put the scroll position (its scroll event is ours)

    // Kept events carry a sequence number; kept[i].seq === base + i.
    const kept = [];
    let base = 0, nextSeq = 0;
    let rowHeight = 0, viewHeight = box.clientHeight;
    let follow = true; // stick to the newest at the next frame
    const shown = new Map(); // seq -> row element in the DOM
    const spare = []; // row elements out of the DOM, to reuse
    const opened = new Map(); // seq -> {detail, height}: rows opened, in seq order of opening

    function setState() {
      state.textContent = paused ? `paused (${paused})` : (connected ? "live" : "reconnecting…");
      pauseButton.textContent = paused ? "Resume (space)" : "Pause (space)";
      pauseButton.setAttribute("aria-pressed", paused ? "true" : "false");
      box.dataset.state = paused ? "paused" : (connected ? "live" : "connecting");
      pill.hidden = !paused || pending.length === 0;
      pill.textContent = `${pending.length} new`;
    }

    // A row element showing `event`, reused from the spares when there are any.
    function fill(line, event) {
      line.className = `row ${severity(event.message)}`;
      line.classList.toggle("open", opened.has(event.seq));
      line.dataset.id = event.id; // a string: event ids pass 2^53, beyond a JS number
      const when = el("span", "when");
      const time = el("time", "", iso(event.timestamp));
      time.dataset.ms = event.timestamp;
      when.append(time);
      const where = el("span", "where", `${event.group} ${event.stream}`);
      where.title = `${event.group} / ${event.stream}`;
      const message = el("span", "message");
      message.append(highlighted(event.message, terms));
      line.replaceChildren(when, where, message);
      line.logEvent = event;
      if (window.logsieveConsole) window.logsieveConsole.applyZone(line);
      return line;
    }
    // The one row height, from a row drawn off to the side (on start and on resize only).
    function measure() {
      const probe = fill(el("div"), { seq: -1, id: "", timestamp: 0, group: "g", stream: "s", message: "probe" });
      probe.style.visibility = "hidden";
      probe.style.height = "auto";
      rows.append(probe);
      rowHeight = Math.max(1, probe.getBoundingClientRect().height);
      probe.remove();
      box.style.setProperty("--tail-row", `${rowHeight}px`);
      for (const [, open] of opened) if (open.detail.isConnected) open.height = open.detail.offsetHeight;
    }

    // Opened rows' details, in kept order, with their heights: few, so lists are fine.
    function openedInOrder() {
      return [...opened.entries()].map(([seq, o]) => ({ index: seq - base, ...o }))
        .filter((o) => o.index >= 0 && o.index < kept.length)
        .sort((a, b) => a.index - b.index);
    }
    // Pixels above row `index` (rows and the details opened above it).
    function offsetOf(index, details) {
      let y = index * rowHeight;
      for (const d of details) if (d.index < index) y += d.height;
      return y;
    }
    // The kept index of the row at `y` pixels from the top.
    function indexAt(y, details) {
      let extra = 0;
      for (const d of details) {
        const detailTop = (d.index + 1) * rowHeight + extra;
        if (y < detailTop) break;
        if (y < detailTop + d.height) return d.index;
        extra += d.height;
      }
      return Math.max(0, Math.min(kept.length - 1, Math.floor((y - extra) / rowHeight)));
    }

    // Draws the rows in view: read the scroll position, then only writes.
    function render() {
      if (!rowHeight) measure();
      const details = openedInOrder();
      const total = offsetOf(kept.length, details);
      const top = follow ? Math.max(0, total - viewHeight) : box.scrollTop;
      const firstIndex = kept.length ? Math.max(0, indexAt(top, details) - OVERSCAN) : 0;
      const lastIndex = kept.length ? Math.min(kept.length - 1, indexAt(top + viewHeight, details) + OVERSCAN) : -1;
      const wanted = [];
      const keep = new Set();
      for (let i = firstIndex; i <= lastIndex; i++) keep.add(kept[i].seq);
      for (const [seq, line] of shown) {
        if (!keep.has(seq)) { line.remove(); shown.delete(seq); spare.push(line); }
      }
      for (const [seq, open] of opened) if (!keep.has(seq)) open.detail.remove();
      for (let i = firstIndex; i <= lastIndex; i++) {
        const event = kept[i];
        let line = shown.get(event.seq);
        if (!line) { line = fill(spare.pop() || el("div"), event); shown.set(event.seq, line); }
        wanted.push(line);
        const open = opened.get(event.seq);
        if (open) wanted.push(open.detail);
      }
      // Put the wanted nodes in order, moving only those not already in place.
      let at = rows.firstChild;
      for (const node of wanted) {
        if (node === at) { at = at.nextSibling; continue; }
        rows.insertBefore(node, at);
      }
      rows.style.paddingTop = `${offsetOf(firstIndex, details)}px`;
      rows.style.paddingBottom = `${total - offsetOf(lastIndex + 1, details)}px`;
      if (follow) {
        box.scrollTop = top;
        expectedTop = box.scrollTop; // layout is up to date after the write: no extra work
      }
      box.dataset.kept = kept.length;
    }
    let scheduled = false;
    function schedule() {
      if (scheduled) return;
      scheduled = true;
      requestAnimationFrame(() => { scheduled = false; render(); });
    }

    function keep(events) {
      for (const event of events) { event.seq = nextSeq++; kept.push(event); }
      if (kept.length > MAX_ROWS) {
        const gone = kept.splice(0, kept.length - MAX_ROWS);
        base = kept.length ? kept[0].seq : nextSeq;
        for (const event of gone) opened.delete(event.seq);
      }
    }
    function pause(reason) {
      if (!paused) { paused = reason; setState(); }
    }
    function closeAll() {
      for (const [seq, open] of opened) {
        open.detail.remove();
        const line = shown.get(seq);
        if (line) line.classList.remove("open");
      }
      opened.clear();
    }
    function resume() {
      paused = "";
      closeAll();
      const waiting = pending;
      pending = [];
      keep(waiting);
      follow = true;
      schedule();
      setState();
    }

    const source = new EventSource(box.dataset.src);
    source.addEventListener("open", () => { connected = true; setState(); });
    source.addEventListener("error", () => { connected = false; setState(); });
    source.addEventListener("logs", (msg) => {
      const frame = JSON.parse(msg.data);
      received += frame.events.length;
      count.textContent = `${received} events`;
      sampledNote.hidden = !frame.sampled;
      if (frame.sampled) {
        sampledNote.textContent = `sampled: ${frame.rate} events/s match, more than the ${frame.cap}/s this page draws`;
      }
      if (paused) {
        pending.push(...frame.events);
        if (pending.length > MAX_ROWS) pending.splice(0, pending.length - MAX_ROWS);
        setState();
      } else {
        keep(frame.events);
        follow = true;
        schedule();
      }
    });
    source.addEventListener("end", () => {
      source.close();
      connected = false;
      state.textContent = "ended (the server stopped or the 3-hour limit passed): reload to tail again";
      box.dataset.state = "ended";
    });

    box.addEventListener("scroll", () => {
      if (expectedTop !== null && Math.abs(box.scrollTop - expectedTop) < 1) return;
      expectedTop = null;
      const total = offsetOf(kept.length, openedInOrder());
      const below = total - box.scrollTop - viewHeight;
      follow = false;
      if (below >= NEAR_BOTTOM) pause("scrolled up");
      else if (paused === "scrolled up") { resume(); return; }
      schedule();
    }, { passive: true });
    new ResizeObserver((entries) => {
      viewHeight = entries[entries.length - 1].contentRect.height;
      rowHeight = 0; // measured again: the columns may have wrapped
      schedule();
    }).observe(box);

    box.addEventListener("click", (ev) => {
      const target = ev.target instanceof Element ? ev.target : null;
      if (!target) return;
      const field = target.closest(".jf");
      if (field) {
        patternBox.value = withClause(patternBox.value, field.dataset.path, JSON.parse(field.dataset.value));
        form.requestSubmit();
        return;
      }
      const line = target.closest(".row");
      if (!line || !line.logEvent || window.getSelection().toString()) return;
      const seq = line.logEvent.seq;
      const open = opened.get(seq);
      if (open) {
        open.detail.remove();
        opened.delete(seq);
        line.classList.remove("open");
        if (!opened.size && paused === "event opened") resume();
        else schedule();
        return;
      }
      const detail = detailOf(line.logEvent);
      line.after(detail);
      line.classList.add("open");
      // Its height counts in the offsets: one layout, on a click, not while following.
      opened.set(seq, { detail, height: detail.offsetHeight });
      follow = false;
      pause("event opened");
      schedule();
    });
    pill.addEventListener("click", resume);
    pauseButton.addEventListener("click", () => (paused ? resume() : pause("by you")));
    document.addEventListener("keydown", (ev) => {
      const t = ev.target;
      const typing = t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
      if (typing || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      if (ev.key === "/") { ev.preventDefault(); patternBox.focus(); patternBox.select(); }
      else if (ev.key === " " && !(t instanceof HTMLButtonElement)) {
        ev.preventDefault();
        if (paused) resume(); else pause("by you");
      }
    });
    setState();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const box = document.getElementById("tail");
    if (box) start(box);
    else {
      const form = document.getElementById("tail-form");
      const patternBox = form && form.querySelector("input[name=pattern]");
      document.addEventListener("keydown", (ev) => {
        if (ev.key === "/" && patternBox && document.activeElement === document.body) {
          ev.preventDefault();
          patternBox.focus();
        }
      });
    }
  });
})();
