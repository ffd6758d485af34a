// Live notifications: the page listens to /notifications/stream (server-sent events), keeps
// the bell's count current and shows each new notification as a toast. The browser reconnects
// by itself after a dropped connection and sends the last id it saw, so nothing is missed.
(function () {
  "use strict";
  var body = document.body;
  if (!body.dataset.liveUrl || !window.EventSource) {
    return;
  }
  var csrf = document.querySelector("meta[name=csrf-token]");

  function setBell(unread) {
    var bell = document.getElementById("bell");
    if (!bell || typeof unread !== "number") {
      return;
    }
    var badge = bell.querySelector(".badge");
    if (unread > 0 && !badge) {
      badge = document.createElement("span");
      badge.className = "badge rounded-pill text-bg-danger";
      bell.appendChild(badge);
    }
    if (badge) {
      if (unread > 0) {
        badge.textContent = unread < 100 ? String(unread) : "99+";
      } else {
        badge.remove();
      }
    }
    bell.setAttribute("aria-label", "Notifications, " + unread + " unread");
  }

  function hidden(name, value) {
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    return input;
  }

  function showToast(note) {
    var container = document.getElementById("live-toasts");
    if (!container) {
      return;
    }
    var toast = document.createElement("div");
    toast.className = "toast";
    toast.setAttribute("data-notification-id", String(note.id));
    var head = document.createElement("div");
    head.className = "toast-header";
    var title = document.createElement("strong");
    title.className = "me-auto";
    title.textContent = note.reference || "Notification";
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("data-bs-dismiss", "toast");
    close.setAttribute("aria-label", "Close");
    head.append(title, close);
    var text = document.createElement("div");
    text.className = "toast-body";
    text.textContent = note.message;  // text, never HTML: messages carry ticket titles
    if (note.url && csrf) {
      // Opening it marks it read, as in the notifications list.
      var form = document.createElement("form");
      form.method = "post";
      form.action = body.dataset.readUrl;
      form.className = "mt-2";
      form.append(hidden("csrf_token", csrf.content), hidden("id", String(note.id)), hidden("next", note.url));
      var open = document.createElement("button");
      open.type = "submit";
      open.className = "btn btn-primary btn-sm";
      open.textContent = "Open " + (note.reference || "ticket");
      form.appendChild(open);
      text.appendChild(form);
    }
    toast.append(head, text);
    while (container.children.length >= 3) {  // a burst shows the newest few; the bell counts all
      container.firstElementChild.remove();
    }
    container.appendChild(toast);
    if (window.bootstrap && window.bootstrap.Toast) {
      toast.addEventListener("hidden.bs.toast", function () { toast.remove(); });
      new window.bootstrap.Toast(toast, { delay: 8000 }).show();
    } else {
      toast.classList.add("show");
    }
  }

  var source = new EventSource(body.dataset.liveUrl + "?after=" + encodeURIComponent(body.dataset.liveAfter || "0"));
  // "open" or "connecting" (the browser retries by itself); styles and tests can read it.
  body.dataset.liveState = "connecting";
  source.addEventListener("open", function () { body.dataset.liveState = "open"; });
  source.addEventListener("error", function () { body.dataset.liveState = "connecting"; });
  source.addEventListener("notification", function (event) {
    var note = JSON.parse(event.data);
    setBell(note.unread);
    showToast(note);
    var refresh = document.getElementById("live-refresh");
    if (refresh && note.reference) {
      refresh.hidden = false;  // a ticket list on this page may be out of date
    }
  });
  source.addEventListener("unread", function (event) {
    setBell(JSON.parse(event.data).unread);
  });
  window.addEventListener("pagehide", function () { source.close(); });
})();
