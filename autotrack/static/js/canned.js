// The reply box's canned-reply picker: "c" (outside a field) focuses it; typing searches the
// agent's and the organization's canned replies; Enter (or picking one) inserts the reply, filled in
// for this ticket by the server, at the cursor of the reply box.
(function () {
  "use strict";
  var picker = document.getElementById("canned-picker");
  if (!picker) { return; }
  var search = document.getElementById("canned-search");
  var options = document.getElementById("canned-options");
  var status = document.getElementById("canned-status");
  var reply = picker.closest("form").querySelector("textarea[name=body]");
  var found = [];

  function typing(target) {
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    if (event.key === "c") {
      event.preventDefault();
      search.focus();
      search.select();
    } else if (event.key === "r") {  // reply
      event.preventDefault();
      reply.focus();
    }
  });

  function refresh() {
    fetch(picker.dataset.searchUrl + "?q=" + encodeURIComponent(search.value), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (items) {
        found = items;
        options.innerHTML = "";
        items.forEach(function (item) {
          var option = document.createElement("option");
          option.value = item.title;
          option.dataset.id = item.id;
          options.appendChild(option);
        });
        status.textContent = items.length ? "" : "No canned reply matches.";
      });
  }

  function chosen() {
    var exact = found.filter(function (item) { return item.title === search.value; });
    return exact[0] || found[0];
  }

  function insert(item) {
    if (!item) { return; }
    var url = picker.dataset.fillUrl.replace(/\/0$/, "/" + item.id);
    fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.json().then(function (body) { return [response.ok, body]; }); })
      .then(function (result) {
        if (!result[0]) { status.textContent = result[1].error.message; return; }
        var text = result[1].text, start = reply.selectionStart || 0, end = reply.selectionEnd || 0;
        reply.value = reply.value.slice(0, start) + text + reply.value.slice(end);
        reply.focus();
        reply.selectionStart = reply.selectionEnd = start + text.length;
        status.textContent = "Inserted “" + item.title + "”.";
        search.value = "";
      });
  }

  search.addEventListener("input", function () {
    var exact = found.filter(function (item) { return item.title === search.value; });
    if (exact.length) { insert(exact[0]); return; }  // picked from the list
    refresh();
  });
  search.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();  // not the reply form's submit
      insert(chosen());
    }
  });
  refresh();
}());
