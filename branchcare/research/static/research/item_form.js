// Show the stock-recommendation fields only when the kind is "个股推荐".
(function () {
  const kind = document.getElementById("id_kind");
  const box = document.getElementById("recommendation-fields");
  if (!kind || !box) return;
  const sync = () => { box.hidden = kind.value !== "recommendation"; };
  kind.addEventListener("change", sync);
  sync();
})();
