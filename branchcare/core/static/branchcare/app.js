// BranchCare front-end glue (no inline scripts: CSP-friendly).
document.addEventListener("keydown", (e) => {
  // "/" focuses the global client search from any page.
  if (e.key === "/" && !["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName)) {
    const box = document.getElementById("global-search");
    if (box) { e.preventDefault(); box.focus(); }
  }
});
document.addEventListener("click", (e) => {
  // Destructive or bulk actions carry data-confirm="说明…" and ask before submitting.
  const el = e.target.closest("[data-confirm]");
  if (el && !window.confirm(el.dataset.confirm)) { e.preventDefault(); e.stopImmediatePropagation(); }
  // "Select all" checkbox for bulk actions.
  const all = e.target.closest("[data-check-all]");
  if (all) {
    document.querySelectorAll(all.dataset.checkAll).forEach((cb) => { cb.checked = all.checked; });
  }
}, true);
