/* The kanban board: move deal cards between stage columns by drag and drop (plain HTML5 DnD)
   or with each card's "Move to…" form (the keyboard way). Both send the same request, the API's
   POST /api/v1/opportunities/{id}/move with the card's version and the CSRF header; the card
   only stays where it was dropped when the server agrees. On a refusal (409: changed by someone
   else, or an illegal move; 422: a missing reason) the card goes back and the reason is shown.
   Moving into a won or lost stage asks for the reason first. Without JavaScript the move form
   posts to the server page instead. Cards added by "Load more" (htmx) work the same: every
   handler is delegated from the document. */
(function () {
  "use strict";

  const board = document.getElementById("board");
  if (!board) return;
  const message = document.getElementById("board-message");
  const dialog = document.getElementById("reason-dialog");
  const csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  let dragged = null;

  function show(text, kind) {
    message.textContent = text;
    message.className = "msg " + (kind || "error");
    message.setAttribute("role", kind === "success" ? "status" : "alert");
    message.hidden = false;
  }

  function columnOf(element) { return element.closest(".board-col"); }

  function number(value) { const n = parseFloat(value); return Number.isFinite(n) ? n : 0; }

  function setFigure(column, name, delta) {
    const node = column.querySelector(".col-" + name);
    if (!node) return;
    const value = number(node.dataset.value) + delta;
    node.dataset.value = String(value);
    node.textContent = name === "count" ? String(Math.round(value)) : Math.round(value).toLocaleString("en-US");
  }

  // Ask for the won/lost reason in the page's dialog; resolves to the text, or null when cancelled.
  function askReason(column) {
    const kind = column.dataset.kind;
    if (kind !== "won" && kind !== "lost") return Promise.resolve("");
    const input = dialog.querySelector("input[name=reason]");
    input.value = "";
    input.required = kind === "lost";
    dialog.querySelector("[data-reason-help]").textContent =
      (kind === "lost" ? "Why was the deal lost? (required) " : "Why was the deal won? (optional) ") +
      "→ " + column.dataset.stageName;
    return new Promise((resolve) => {
      dialog.addEventListener("close", function onClose() {
        dialog.removeEventListener("close", onClose);
        resolve(dialog.returnValue === "ok" ? input.value.trim() : null);
      });
      dialog.returnValue = "";
      dialog.showModal();
      input.focus();
    });
  }

  async function move(card, target) {
    const source = columnOf(card);
    if (!target || target === source) return;
    const reason = await askReason(target);
    if (reason === null) return;
    const home = { parent: card.parentNode, next: card.nextSibling };
    const hadFocus = card.contains(document.activeElement);  // moving a node in the DOM drops its focus
    const list = target.querySelector(".board-cards");
    list.insertBefore(card, list.firstChild);  // optimistic: newest change first, as the server orders
    card.classList.add("moving");
    let response;
    let body = {};
    try {
      response = await fetch(board.dataset.api + card.dataset.id + "/move", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ stage_id: Number(target.dataset.stageId), version: Number(card.dataset.version),
                               close_reason: reason }),
      });
      body = await response.json().catch(() => ({}));
    } catch (error) {
      response = null;
    }
    card.classList.remove("moving");
    const refocus = () => { if (hadFocus) (card.querySelector("select.move-to") || card).focus(); };
    if (!response || !response.ok) {
      home.parent.insertBefore(card, home.next);
      const select = card.querySelector("select.move-to");
      if (select) select.value = source.dataset.stageId;
      let text = (body && body.detail) || "The move failed; check your connection and try again.";
      if (response && response.status === 409) text += " The card is back where it was; reload the board to see the latest.";
      show(text, "error");
      refocus();
      return;
    }
    const oldWeighted = number(card.dataset.weighted);
    card.dataset.version = String(body.version);
    card.dataset.stageId = String(body.stage_id);
    card.dataset.weighted = String(body.weighted_amount);
    card.querySelectorAll("input[name=version]").forEach((input) => { input.value = String(body.version); });
    // Column figures are in the company currency: the card's amounts times its rate (a deal
    // without a rate is counted but in no total, as on the server).
    const rate = card.dataset.rate === "" ? 0 : number(card.dataset.rate);
    const amount = number(card.dataset.amount) * rate;
    setFigure(source, "count", -1); setFigure(source, "total", -amount); setFigure(source, "weighted", -oldWeighted * rate);
    setFigure(target, "count", 1); setFigure(target, "total", amount);
    setFigure(target, "weighted", number(body.weighted_amount) * rate);
    const select = card.querySelector("select.move-to");
    if (select) select.value = target.dataset.stageId;
    show("“" + card.getAttribute("aria-label") + "” moved to " + target.dataset.stageName + ".", "success");
    refocus();
  }

  // A pipeline has more columns than a screen is wide: near the board's left or right edge a
  // dragged card scrolls the board, so any column can be reached in one drag.
  const EDGE = 60;
  function edgeScroll(x) {
    const box = board.getBoundingClientRect();
    if (x < box.left + EDGE) board.scrollLeft -= 24;
    else if (x > box.right - EDGE) board.scrollLeft += 24;
  }

  document.addEventListener("dragstart", (event) => {
    const card = event.target.closest && event.target.closest(".deal-card[draggable=true]");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.id);
    card.classList.add("dragging");
  });
  document.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("dragging");
    board.querySelectorAll(".drop-here").forEach((col) => col.classList.remove("drop-here"));
    dragged = null;
  });
  board.addEventListener("dragover", (event) => {
    const column = event.target.closest(".board-col");
    if (!column || !dragged) return;
    event.preventDefault();  // allows the drop
    event.dataTransfer.dropEffect = "move";
    edgeScroll(event.clientX);
    board.querySelectorAll(".drop-here").forEach((col) => { if (col !== column) col.classList.remove("drop-here"); });
    column.classList.add("drop-here");
  });
  board.addEventListener("drop", (event) => {
    const column = event.target.closest(".board-col");
    if (!column || !dragged) return;
    event.preventDefault();
    column.classList.remove("drop-here");
    const card = dragged;
    dragged = null;
    move(card, column);
  });

  // The keyboard way: the card's "Move to…" form, sent to the API instead of a page load.
  board.addEventListener("submit", (event) => {
    const form = event.target.closest("form.move-form");
    if (!form) return;
    event.preventDefault();
    const card = form.closest(".deal-card");
    const target = board.querySelector('.board-col[data-stage-id="' + CSS.escape(form.elements.stage_id.value) + '"]');
    move(card, target);
  });

  // The pipeline switcher shows the chosen pipeline at once (its button is for no-JS use).
  document.addEventListener("change", (event) => {
    const form = event.target.closest("form[data-pipeline-switch]");
    if (form) form.submit();
  });
})();
