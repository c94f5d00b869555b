/* Rapport: small progressive enhancements; every page works without them. */
(function () {
  "use strict";

  function currentQuery() {
    const params = new URLSearchParams(window.location.search);
    params.delete("cursor");
    return params.toString();
  }

  // "Select all" checkbox in list tables.
  document.addEventListener("change", (event) => {
    const all = event.target.closest("[data-select-all]");
    if (all) {
      document.querySelectorAll("input[name=ids]").forEach((box) => { box.checked = all.checked; });
    }
  });

  document.addEventListener("submit", (event) => {
    const form = event.target;
    // Lists change their URL through htmx; forms that remember "where I am" read it at submit time.
    form.querySelectorAll("[data-current-url]").forEach((input) => {
      input.value = window.location.pathname + window.location.search;
    });
    form.querySelectorAll("[data-current-query]").forEach((input) => { input.value = currentQuery(); });
    const message = form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); return; }
    if (form.hasAttribute("data-bulk")) {
      const action = form.querySelector("select[name=action]");
      const button = form.querySelector("[data-confirm-delete]");
      if (!document.querySelector("input[name=ids]:checked")) { event.preventDefault(); return; }
      if (action && action.value === "delete" && button && !window.confirm(button.getAttribute("data-confirm-delete"))) {
        event.preventDefault();
      }
    }
  });

  // Keep the export link in step with the filters after htmx swaps the table.
  document.addEventListener("htmx:pushedIntoHistory", () => {
    const query = currentQuery();
    document.querySelectorAll("a[data-export]").forEach((link) => {
      const base = link.getAttribute("href").split("?")[0];
      link.setAttribute("href", query ? base + "?" + query : base);
    });
  });

  // Inline validation: a form with data-validate posts itself (hx-post, "_validate=1") on every
  // change and the server answers with the re-rendered form. Only the error messages are copied
  // over, so whatever the user typed meanwhile is never overwritten.
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-validate")) return;
    const xhr = event.detail.xhr;
    if (!xhr || !xhr.responseText) return;
    const fresh = new DOMParser().parseFromString(xhr.responseText, "text/html").querySelector("form[data-validate]");
    if (!fresh) return;
    form.querySelectorAll(".errorlist[data-error-for]").forEach((node) => node.remove());
    form.querySelectorAll(".has-error").forEach((node) => node.classList.remove("has-error"));
    fresh.querySelectorAll(".errorlist[data-error-for]").forEach((list) => {
      const input = form.querySelector(`[name="${CSS.escape(list.dataset.errorFor)}"]`);
      const holder = input && input.closest(".field, .cell");
      if (!holder) return;
      holder.classList.add("has-error");
      holder.appendChild(document.importNode(list, true));
    });
    const top = form.querySelector(".form-top");
    const freshTop = fresh.querySelector(".form-top");
    if (top && freshTop) top.replaceChildren(...Array.from(freshTop.childNodes, (n) => document.importNode(n, true)));
  });

  // Show the bulk bar's owner/tag inputs only when they apply.
  function syncBulk(form) {
    const action = form.querySelector("select[name=action]");
    if (!action) return;
    const owner = form.querySelector("select[name=owner]");
    const tag = form.querySelector("input[name=tag]");
    if (owner) owner.hidden = action.value !== "assign";
    if (tag) tag.hidden = action.value !== "tag";
  }
  document.addEventListener("change", (event) => {
    const form = event.target.closest("form[data-bulk]");
    if (form) syncBulk(form);
  });
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("form[data-bulk]").forEach(syncBulk);
  });
})();
