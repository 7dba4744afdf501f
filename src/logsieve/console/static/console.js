// logsieve console: the little behaviour the pages need beyond htmx, with no inline script
// (the Content-Security-Policy allows scripts from this server's files only).
(() => {
  "use strict";

  // <time data-ms="..."> shows UTC from the server; the toggle switches every time on the
  // page to the browser's local zone and back, remembered across pages.
  const ZONE_KEY = "logsieve.zone";
  function pad(n, w = 2) { return String(n).padStart(w, "0"); }
  function localText(ms) {
    const d = new Date(ms);
    const off = -d.getTimezoneOffset();
    const sign = off >= 0 ? "+" : "-";
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:` +
      `${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}` +
      `${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  }
  function applyZone(root) {
    const local = localStorage.getItem(ZONE_KEY) === "local";
    root.querySelectorAll("time[data-ms]").forEach((el) => {
      const ms = Number(el.dataset.ms);
      if (!el.dataset.utc) el.dataset.utc = el.textContent;
      el.textContent = local ? localText(ms) : el.dataset.utc;
    });
    document.querySelectorAll("[data-zone-toggle]").forEach((el) => {
      el.textContent = local ? "Local time (show UTC)" : "UTC (show local time)";
      el.setAttribute("aria-pressed", local ? "true" : "false");
    });
  }

  // A form with data-confirm asks before it submits (deleting a group or stream).
  document.addEventListener("submit", (ev) => {
    const form = ev.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      ev.preventDefault();
      ev.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("click", (ev) => {
    const target = ev.target instanceof Element ? ev.target : null;
    if (!target) return;
    const zone = target.closest("[data-zone-toggle]");
    if (zone) {
      const local = localStorage.getItem(ZONE_KEY) === "local";
      localStorage.setItem(ZONE_KEY, local ? "utc" : "local");
      applyZone(document);
      return;
    }
    const expand = target.closest("[data-expand-all]");
    if (expand) {
      const list = document.getElementById(expand.dataset.expandAll);
      if (list) {
        const rows = list.querySelectorAll("details");
        const open = expand.textContent === "Expand all";
        rows.forEach((d) => { d.open = open; });
        expand.textContent = open ? "Collapse all" : "Expand all";
      }
      return;
    }
  });

  // Page scripts (tail.js) apply the zone to the rows they draw.
  window.logsieveConsole = { applyZone };
  document.addEventListener("DOMContentLoaded", () => applyZone(document));
  // htmx 4 swaps fire htmx:after:swap; re-apply the zone to the new content.
  document.addEventListener("htmx:after:swap", () => applyZone(document));
})();
