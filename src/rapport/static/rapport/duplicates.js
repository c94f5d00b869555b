/* Keyboard shortcuts of the duplicate review pages: any element with data-key="x" is clicked on "x".
   m merge, n not a duplicate, s skip, j next, k previous, u undo. Typing in a field never triggers one. */
(function () {
  "use strict";
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const target = event.target;
    if (target instanceof HTMLElement && (target.isContentEditable || target.matches("textarea, select, input:not([type=radio]):not([type=checkbox])"))) return;
    const element = document.querySelector(`[data-key="${CSS.escape(event.key)}"]`);
    if (!element) return;
    event.preventDefault();
    element.click();
  });
})();
