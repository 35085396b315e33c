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

  // The composer: u writes to the customer, n an internal note; its one button says what it will do.
  function compose(audience, then) {
    const form = document.querySelector("form[data-composer]");
    if (!form) return;
    const choice = form.querySelector(`input[name=compose-audience][value=${audience}]`);
    if (choice) choice.checked = true;
    if (then && form.elements["compose-then"]) form.elements["compose-then"].value = then;
    relabel(form);
    keepComposerChoices(form);
    focusAtEnd(form.elements["compose-body"]);
  }

  function relabel(form) {
    const button = form.querySelector(".compose-send");
    const then = form.elements["compose-then"];
    const internal = form.querySelector("input[name=compose-audience][value=internal]:checked");
    const option = then && then.selectedOptions[0];
    const label = internal ? button.dataset.note : option && option.dataset.button;
    if (button && label) button.textContent = label;
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
    u: () => compose("public"),
    n: () => compose("internal"),
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
    document.querySelectorAll("form[data-composer]").forEach(relabel);
    countDownUndos();
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
    const composer = event.target.closest && event.target.closest("form[data-composer]");
    if (composer) { relabel(composer); keepComposerChoices(composer); }
  });

  // The Triage card's "Resolve…": the composer on "Send and resolve", without a reload.
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("[data-compose-then]");
    if (!link || !document.querySelector("form[data-composer]")) return;
    event.preventDefault();
    compose("public", link.dataset.composeThen);
  });

  // Undo: the button counts down the seconds left and leaves when they are up (the server refuses later anyway).
  function countDownUndos() {
    document.querySelectorAll("form.undo[data-undo-seconds]:not([data-counting])").forEach((form) => {
      form.dataset.counting = "1";
      const shown = form.querySelector(".undo-seconds");
      const ends = Date.now() + Number(form.dataset.undoSeconds) * 1000;
      const tick = () => {
        const left = Math.ceil((ends - Date.now()) / 1000);
        if (left <= 0 || !form.isConnected) { form.remove(); return; }
        if (shown) shown.textContent = String(left);
        window.setTimeout(tick, 250);
      };
      tick();
    });
  }

  // Drafts: what is typed in an issue page's forms survives every swap (Assign, a status change, a note
  // sent from the composer) and a reload: kept per issue and field in this browser, forgotten once the form
  // holding it has been sent and accepted. The composer's choices (who reads it, what follows) are kept with
  // its text. A refused form comes back with what was typed, from the server.
  const DRAFTED = "#issue-page form textarea, #issue-page form input[type=datetime-local]";
  const CHOICES = ["compose-audience", "compose-then"];

  function draftKey(field, name) {
    const page = field.closest("#issue-page");
    const named = name || field.name;
    return page && named ? `inloop:draft:${page.dataset.issue}:${named}` : null;
  }

  function keep(key, value) {
    try {
      if (value) localStorage.setItem(key, value); else localStorage.removeItem(key);
    } catch (error) { /* storage off or full: the draft lives only on the page */ }
  }

  function saved(key) {
    try { return key ? localStorage.getItem(key) : null; } catch (error) { return null; }
  }

  function keepComposerChoices(form) {
    const audience = form.querySelector("input[name=compose-audience]:checked");
    const then = form.elements["compose-then"];
    keep(draftKey(form, "compose-audience"), audience ? audience.value : "");
    keep(draftKey(form, "compose-then"), then ? then.value : "");
  }

  function restoreDrafts() {
    document.querySelectorAll(DRAFTED).forEach((field) => {
      const text = saved(draftKey(field));
      if (text && !field.value) field.value = text;  // what the server put there (a refused form) wins
    });
    document.querySelectorAll("#issue-page form[data-composer]").forEach((form) => {
      const audience = form.querySelector(`input[name=compose-audience][value="${saved(draftKey(form, "compose-audience"))}"]`);
      if (audience) audience.checked = true;
      const then = form.elements["compose-then"];
      const move = saved(draftKey(form, "compose-then"));
      if (then && move && Array.from(then.options).some((option) => option.value === move)) then.value = move;
    });
  }

  document.addEventListener("input", (event) => {
    const field = event.target;
    if (!field.matches || !field.matches(DRAFTED)) return;
    const key = draftKey(field);
    if (key) keep(key, field.value);
  });

  function forget(form) {
    form.querySelectorAll("textarea, input[type=datetime-local]").forEach((field) => {
      const key = draftKey(field);
      if (key) keep(key, "");
    });
    if (form.matches("[data-composer]")) CHOICES.forEach((name) => keep(draftKey(form, name), ""));
  }

  // Sent by htmx: forgotten once the server has accepted it (a refusal or a lost connection keeps it). The
  // request's form may be out of the page by then (the swap came first), but it still knows its issue.
  // A lost connection is "after a request" too, with status 0: only a real 2xx answer counts as accepted.
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.requestConfig && event.detail.requestConfig.elt;
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (!event.detail.successful || status < 200 || status >= 300) return;
    // The session ended: the window goes to the login page (HX-Redirect) and nothing was saved.
    if (event.detail.xhr.getResponseHeader("HX-Redirect")) return;
    const failure = document.getElementById("request-failures");
    if (failure) failure.replaceChildren();  // something went through since: the failure is old news
    if (form && form.matches && form.matches("form")) forget(form);
  });

  // A request htmx sent that failed (an error answer, or none at all) says so at the top of the page: nothing
  // was saved, and why. Nothing is swapped, so the form keeps what was typed (and its draft stays kept). The
  // words come from the page (base.html's <template>), in the reader's language.
  function reasonFor(status) {
    if (!status) return "network";
    if ([403, 404, 500].includes(status)) return String(status);
    return [502, 503, 504].includes(status) ? "503" : "other";
  }

  function failed(event, status) {
    const place = document.getElementById("request-failures");
    const template = document.getElementById("request-failed");
    if (!place || !template) return;
    const alert = template.content.firstElementChild.cloneNode(true);
    const config = event.detail.requestConfig;
    const sent = config && config.verb && config.verb !== "get" ? "yes" : "no";  // a read saves nothing anyway
    const reason = reasonFor(status);
    alert.querySelectorAll("[data-sent]").forEach((part) => { if (part.dataset.sent !== sent) part.remove(); });
    alert.querySelectorAll("[data-reason]").forEach((part) => { if (part.dataset.reason !== reason) part.remove(); });
    const source = event.detail.elt;
    const form = source && source.closest && source.closest("form");
    const typed = form && Array.from(form.querySelectorAll("textarea, input[type=text]")).some((field) => field.value);
    if (!typed) alert.querySelector("[data-typed]").remove();
    place.replaceChildren(alert);
  }

  document.addEventListener("htmx:responseError", (event) => failed(event, event.detail.xhr.status));
  document.addEventListener("htmx:sendError", (event) => failed(event, 0));
  document.addEventListener("htmx:timeout", (event) => failed(event, 0));

  // Sent without htmx (the page leaves): forgotten as it goes. Capture: before anything takes the submit over.
  document.addEventListener("submit", (event) => {
    if (!event.target.hasAttribute("hx-post")) forget(event.target);
  }, true);

  // Our CSP forbids inline styles: htmx must not copy style attributes while it settles a swap (it would set
  // the ones a browser or a script left on an element, and each such attempt is a CSP violation).
  if (window.htmx) htmx.config.attributesToSettle = ["class", "width", "height"];

  document.addEventListener("DOMContentLoaded", enhance);
  document.addEventListener("htmx:afterSettle", enhance);
})();
