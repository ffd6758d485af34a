// The console's clicks that Flask-Admin wires with inline handlers, bound here instead: the
// Content-Security-Policy runs no inline script (templates/admin/actions.html, model/*.html).
document.addEventListener("click", function (event) {
  var action = event.target.closest("[data-model-action]");
  if (action) {
    event.preventDefault();
    window.modelActions.execute(action.dataset.modelAction);
    return;
  }
  var confirming = event.target.closest("[data-confirm]");
  if (confirming && !window.confirm(confirming.dataset.confirm)) {
    event.preventDefault();
    return;
  }
  if (event.target.closest('a[href="#"]')) {
    event.preventDefault(); // menu toggles and filter names: no jump to the page's top
  }
});
