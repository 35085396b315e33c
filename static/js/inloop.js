// Inloop's keyboard shortcuts and small comforts. Every page works without this file.
(function () {
  "use strict";

  const rows = () => Array.from(document.querySelectorAll(".inbox tbody tr[data-issue]"));
  let currentIssue = null;

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']") !== null;
  }

  function select(row) {
    rows().forEach((r) => r.classList.toggle("current", r === row));
    if (!row) return;
    currentIssue = row.dataset.issue;
    row.setAttribute("aria-current", "true");
    row.querySelector(".issue-link").focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    const all = rows();
    if (!all.length) return;
    const index = all.findIndex((r) => r.dataset.issue === currentIssue);
    const next = index < 0 ? 0 : Math.min(Math.max(index + step, 0), all.length - 1);
    all.forEach((r) => r.removeAttribute("aria-current"));
    select(all[next]);
  }

  function currentRow() {
    return rows().find((r) => r.dataset.issue === currentIssue) || null;
  }

  function focusAtEnd(field) {
    field.focus();
    field.setSelectionRange(field.value.length, field.value.length);
    field.scrollIntoView({ block: "center" });
  }

  function acknowledge() {
    const button = document.getElementById("acknowledge");
    if (button) { button.click(); return; }
    const row = currentRow();
    const form = document.getElementById("bulk-form");
    if (!row || !form || !window.htmx) return;
    // Only this row: the source sits outside the bulk form, so checked boxes are not sent along.
    htmx.ajax("POST", form.getAttribute("action"), {
      target: "#inbox-results",
      source: document.getElementById("inbox-results"),
      values: { issues: row.dataset.issue, action: "acknowledge", filters: form.elements.filters.value },
    });
  }

  const keys = {
    j: () => move(1),
    k: () => move(-1),
    o: () => { const row = currentRow(); if (row) window.location.assign(row.dataset.href); },
    "/": () => { const search = document.getElementById("id_q"); if (search) focusAtEnd(search); },
    a: acknowledge,
    u: () => { const body = document.getElementById("id_update-body"); if (body) focusAtEnd(body); },
    "?": () => { if (window.bootstrap) bootstrap.Modal.getOrCreateInstance("#shortcuts").show(); },
  };

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) {
      // Escape leaves a field, so the shortcuts work again without reaching for the mouse.
      if (event.key === "Escape" && event.target.blur) event.target.blur();
      return;
    }
    const action = keys[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });

  function enhance() {
    const all = document.getElementById("select-all");
    if (all) {
      all.hidden = false;
      all.addEventListener("change", () => {
        document.querySelectorAll(".inbox tbody input[name=issues]").forEach((box) => { box.checked = all.checked; });
      });
    }
    const row = currentRow();
    if (row) select(row);
    restoreDrafts();
    const draft = document.querySelector("textarea[data-compose]");
    if (draft && !draft.dataset.focused) { draft.dataset.focused = "1"; focusAtEnd(draft); }
  }

  // Filters in the URL without the empty ones, so a shared link says only what matters.
  document.addEventListener("htmx:configRequest", (event) => {
    if (event.detail.elt.id !== "filters") return;
    const data = event.detail.formData;
    Array.from(data.keys()).forEach((key) => { if (data.get(key) === "") data.delete(key); });
  });

  // Selects that act at once (the language switch): a script file, since the CSP forbids inline handlers.
  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-submit-on-change]")) event.target.form.requestSubmit();
  });

  // Drafts: what is typed in an issue page's forms survives every swap (Assign, a status change, a note
  // sent from the other form) and a reload: kept per issue and field in this browser, forgotten when the
  // form holding it is sent. A refused form comes back with what was typed, from the server.
  const DRAFTED = "#issue-page form textarea, #issue-page form input[type=datetime-local]";

  function draftKey(field) {
    const page = field.closest("#issue-page");
    return page && field.name ? `inloop:draft:${page.dataset.issue}:${field.name}` : null;
  }

  function keep(key, value) {
    try {
      if (value) localStorage.setItem(key, value); else localStorage.removeItem(key);
    } catch (error) { /* storage off or full: the draft lives only on the page */ }
  }

  function restoreDrafts() {
    document.querySelectorAll(DRAFTED).forEach((field) => {
      const key = draftKey(field);
      let saved = null;
      try { saved = key && localStorage.getItem(key); } catch (error) { saved = null; }
      if (saved && !field.value) field.value = saved;  // what the server put there (a refused form) wins
    });
  }

  document.addEventListener("input", (event) => {
    const field = event.target;
    if (!field.matches || !field.matches(DRAFTED)) return;
    const key = draftKey(field);
    if (key) keep(key, field.value);
  });

  // Capture: before htmx takes the submit over.
  document.addEventListener("submit", (event) => {
    event.target.querySelectorAll("textarea, input[type=datetime-local]").forEach((field) => {
      const key = draftKey(field);
      if (key) keep(key, "");
    });
  }, true);

  // Our CSP forbids inline styles: htmx must not copy style attributes while it settles a swap (it would set
  // the ones a browser or a script left on an element, and each such attempt is a CSP violation).
  if (window.htmx) htmx.config.attributesToSettle = ["class", "width", "height"];

  document.addEventListener("DOMContentLoaded", enhance);
  document.addEventListener("htmx:afterSettle", enhance);
})();
