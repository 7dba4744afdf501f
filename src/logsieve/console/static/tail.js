// logsieve console, live tail: follows /console/tail/stream (server-sent events) and draws
// the rows, newest at the bottom. Pauses when the reader scrolls up, opens a row, or presses
// space; an "N new" pill counts what arrived meanwhile. The browser's EventSource reconnects
// by itself and sends Last-Event-ID, so the server resumes where the page left off.
// The page keeps the last 5,000 events but draws only the newest 500 while following; a
// reader scrolling through them sees a window of at most 1,000, drawn in chunks as they
// scroll (a 5,000-row DOM made every frame and every keypress cost hundreds of milliseconds
// of layout and paint; bench/console.py).
(() => {
  "use strict";
  const MAX_ROWS = 5000; // events kept
  const LIVE_ROWS = 500; // rows in the page while following; older ones drawn on scroll-up
  const CHUNK_ROWS = 200; // rows drawn at a time when the reader reaches the first or last
  const WINDOW_ROWS = 1000; // rows in the page at most while the reader scrolls back
  const NEAR_EDGE = 200; // px: draw more rows when the reader scrolls this close to an edge
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
    let paused = "", pending = [], received = 0, programmatic = false, connected = false;
    const kept = []; // the last MAX_ROWS events; the page shows kept[first .. first + drawn)
    let first = 0, drawn = 0;
    const following = () => first + drawn >= kept.length; // the newest kept row is drawn

    function setState() {
      state.textContent = paused ? `paused (${paused})` : (connected ? "live" : "reconnecting…");
      pauseButton.textContent = paused ? "Resume (space)" : "Pause (space)";
      pauseButton.setAttribute("aria-pressed", paused ? "true" : "false");
      box.dataset.state = paused ? "paused" : (connected ? "live" : "connecting");
      pill.hidden = !paused || pending.length === 0;
      pill.textContent = `${pending.length} new`;
    }
    function toBottom() {
      programmatic = true;
      box.scrollTop = box.scrollHeight;
      requestAnimationFrame(() => { programmatic = false; });
    }
    function row(event) {
      const line = el("div", `row ${severity(event.message)}`);
      line.dataset.id = event.id;
      const when = el("span", "when");
      const time = el("time", "", iso(event.timestamp));
      time.dataset.ms = event.timestamp;
      when.append(time);
      const where = el("span", "where", `${event.group} ${event.stream}`);
      where.title = `${event.group} / ${event.stream}`;
      const message = el("span", "message");
      message.append(highlighted(event.message, terms));
      line.append(when, where, message);
      line.logEvent = event;
      return line;
    }
    function fragmentOf(events) {
      const fragment = document.createDocumentFragment();
      for (const event of events) fragment.append(row(event));
      if (window.logsieveConsole) window.logsieveConsole.applyZone(fragment);
      return fragment;
    }
    // A row leaves the page with its opened detail (which follows it).
    function removeFirstRow() {
      rows.firstElementChild.remove();
      if (rows.firstElementChild && rows.firstElementChild.classList.contains("detail")) {
        rows.firstElementChild.remove();
      }
      drawn--;
    }
    function removeLastRow() {
      if (rows.lastElementChild.classList.contains("detail")) rows.lastElementChild.remove();
      rows.lastElementChild.remove();
      drawn--;
    }
    function draw(events) {
      kept.push(...events);
      if (kept.length > MAX_ROWS) kept.splice(0, kept.length - MAX_ROWS);
      const fresh = events.slice(-LIVE_ROWS);
      rows.append(fragmentOf(fresh));
      drawn += fresh.length;
      while (drawn > LIVE_ROWS) removeFirstRow();
      first = kept.length - drawn;
      box.dataset.kept = kept.length;
      toBottom();
    }
    // Keep what the reader looks at still while rows come or go above it.
    function keepView(change) {
      const height = box.scrollHeight;
      change();
      programmatic = true;
      box.scrollTop += box.scrollHeight - height;
      requestAnimationFrame(() => { programmatic = false; });
    }
    // Older kept rows above the first, newer ones below the last; the far edge trimmed.
    function prependOlder() {
      if (first <= 0) return;
      const older = kept.slice(Math.max(0, first - CHUNK_ROWS), first);
      keepView(() => { rows.prepend(fragmentOf(older)); });
      first -= older.length;
      drawn += older.length;
      while (drawn > WINDOW_ROWS) removeLastRow();
    }
    function appendNewer() {
      if (following()) return;
      rows.append(fragmentOf(kept.slice(first + drawn, first + drawn + CHUNK_ROWS)));
      drawn = Math.min(kept.length - first, drawn + CHUNK_ROWS);
      keepView(() => { while (drawn > WINDOW_ROWS) { removeFirstRow(); first++; } });
      const below = box.scrollHeight - box.scrollTop - box.clientHeight;
      if (following() && below < NEAR_BOTTOM && paused === "scrolled up") resume();
    }
    // Once a frame however many scroll events arrive.
    const queued = new Set();
    function once(work) {
      if (queued.has(work)) return;
      queued.add(work);
      requestAnimationFrame(() => { queued.delete(work); work(); });
    }
    function pause(reason) {
      if (!paused) { paused = reason; setState(); }
    }
    function resume() {
      paused = "";
      rows.querySelectorAll(".detail").forEach((d) => d.remove());
      rows.querySelectorAll(".row.open").forEach((r) => r.classList.remove("open"));
      if (!following()) { // scrolled back in a window: draw the newest again
        rows.replaceChildren();
        const newest = kept.slice(-LIVE_ROWS);
        rows.append(fragmentOf(newest));
        drawn = newest.length;
        first = kept.length - drawn;
      }
      const waiting = pending;
      pending = [];
      draw(waiting);
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
        draw(frame.events);
      }
    });
    source.addEventListener("end", () => {
      source.close();
      connected = false;
      state.textContent = "ended (the server stopped or the 3-hour limit passed): reload to tail again";
      box.dataset.state = "ended";
    });

    box.addEventListener("scroll", () => {
      if (programmatic) return;
      const below = box.scrollHeight - box.scrollTop - box.clientHeight;
      if (box.scrollTop < NEAR_EDGE) once(prependOlder);
      if (below < NEAR_EDGE && !following()) once(appendNewer);
      if (below >= NEAR_BOTTOM || !following()) pause("scrolled up");
      else if (paused === "scrolled up") resume();
    });
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
      if (!line || window.getSelection().toString()) return;
      const open = line.nextElementSibling && line.nextElementSibling.classList.contains("detail");
      if (open) {
        line.nextElementSibling.remove();
        line.classList.remove("open");
        if (!rows.querySelector(".row.open") && paused === "event opened") resume();
        return;
      }
      const detail = el("div", "detail");
      const pre = el("pre", "msg");
      let parsed;
      try { parsed = JSON.parse(line.logEvent.message); } catch (e) { parsed = undefined; }
      if (parsed !== undefined && parsed !== null && typeof parsed === "object") jsonTree(parsed, "$", 0, pre);
      else pre.textContent = line.logEvent.message;
      detail.append(pre);
      line.after(detail);
      line.classList.add("open");
      pause("event opened");
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
