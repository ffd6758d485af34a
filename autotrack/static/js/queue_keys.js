// The agent queue by keyboard (none fire while typing in a field): j / k move down and up the
// list, x selects the current ticket for a bulk action, Enter opens it. The header checkbox
// selects the whole page.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-ticket-row]"));
  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      rows.forEach(function (row) {
        var box = row.querySelector("input[name=ids]");
        if (box) { box.checked = all.checked; }
      });
    });
  }
  if (!rows.length) { return; }
  var current = -1;
  function typing(target) {
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }
  function move(to) {
    if (current >= 0) { rows[current].classList.remove("table-active"); rows[current].removeAttribute("aria-current"); }
    current = Math.max(0, Math.min(rows.length - 1, to));
    rows[current].classList.add("table-active");
    rows[current].setAttribute("aria-current", "true");
    rows[current].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    if (event.key === "j") { move(current + 1); }
    else if (event.key === "k") { move(current - 1); }
    else if (event.key === "x" && current >= 0) {
      var box = rows[current].querySelector("input[name=ids]");
      if (box) { box.checked = !box.checked; }
    } else if (event.key === "Enter" && current >= 0) {
      var link = rows[current].querySelector("a");
      if (link) { window.location.href = link.href; }
    } else { return; }
    event.preventDefault();
  });
}());
