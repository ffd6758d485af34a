// Turns the category list into up to three linked selects (area, topic, issue). Without
// JavaScript the plain list still works: it stays the field that is submitted.
(function () {
  "use strict";
  var box = document.getElementById("category-picker");
  if (!box) { return; }
  var field = box.querySelector("select");
  var tree = JSON.parse(box.getAttribute("data-tree") || "[]");
  if (!field || !tree.length) { return; }
  var labels = ["Area", "Topic", "Issue"];
  var levels = [];
  var holder = document.createElement("div");
  holder.className = "row g-2 mb-3";
  field.closest(".mb-3").style.display = "none";
  box.appendChild(holder);

  function pathTo(id, nodes, trail) {
    for (var i = 0; i < nodes.length; i++) {
      var next = trail.concat([nodes[i]]);
      if (String(nodes[i].id) === String(id)) { return next; }
      var found = pathTo(id, nodes[i].children, next);
      if (found) { return found; }
    }
    return null;
  }

  function render(depth, nodes, chosen) {
    levels.slice(depth).forEach(function (level) { level.parentNode.remove(); });
    levels = levels.slice(0, depth);
    if (!nodes.length || depth > 2) { return; }
    var col = document.createElement("div");
    col.className = "col-md-4";
    var id = "category-level-" + depth;
    var label = document.createElement("label");
    label.className = "form-label";
    label.htmlFor = id;
    label.textContent = labels[depth];
    var select = document.createElement("select");
    select.className = "form-select";
    select.id = id;
    select.add(new Option(depth === 0 ? "— Not sure —" : "— Any —", ""));
    nodes.forEach(function (node) { select.add(new Option(node.name, node.id)); });
    col.appendChild(label);
    col.appendChild(select);
    holder.appendChild(col);
    levels.push(select);
    select.addEventListener("change", function () {
      var node = nodes.filter(function (n) { return String(n.id) === select.value; })[0];
      field.value = select.value || (depth > 0 ? levels[depth - 1].value : "");
      render(depth + 1, node ? node.children : [], null);
    });
    if (chosen && chosen.length) {
      select.value = String(chosen[0].id);
      render(depth + 1, chosen[0].children, chosen.slice(1));
    }
  }

  render(0, tree, pathTo(field.value, tree, []) || []);
})();
