// Keyboard shortcuts shared by every portal page (none fire while typing in a field):
//   "/"  focus the page's search box (an input marked data-shortcut="search")
//   "g" then "n"  open the notifications
(function () {
  "use strict";
  var pendingG = false;
  function typing(target) {
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }
    if (event.key === "/") {
      var search = document.querySelector("[data-shortcut=search]");
      if (search) {
        event.preventDefault();
        search.focus();
        search.select();
      }
    } else if (pendingG && event.key === "n") {
      var bell = document.getElementById("bell");
      if (bell) {
        window.location.href = bell.href;
      }
    }
    pendingG = event.key === "g";
  });
})();
