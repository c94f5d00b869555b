/* Rapport: small progressive enhancements; every page works without them. */
document.addEventListener("change", (event) => {
  const all = event.target.closest("[data-select-all]");
  if (all) {
    document.querySelectorAll("input[name=ids]").forEach((box) => { box.checked = all.checked; });
  }
});
