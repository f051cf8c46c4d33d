// Small behaviours the pages need; no inline scripts (the CSP forbids them).
(function () {
  "use strict";

  function announce(message) {
    var area = document.getElementById("flash");
    if (!area) { return; }
    var p = document.createElement("p");
    p.className = "flash flash-error";
    p.textContent = message;
    area.replaceChildren(p);
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var text = document.body.getAttribute("data-error-" + xhr.status) ||
      document.body.getAttribute("data-error-generic") || ("Error " + xhr.status);
    announce(text);
  });

  // A 413 answered with the target's own partial (the form, its message beside the file
  // field) is swapped in like a 422; any other error answer goes to the flash area above.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    if (detail.xhr.status !== 413 || !detail.target || !detail.target.id) { return; }
    var page = new DOMParser().parseFromString(detail.serverResponse, "text/html");
    var root = page.body.firstElementChild;
    if (root && root.id === detail.target.id) {
      detail.shouldSwap = true;
      detail.isError = false;
    }
  });

  document.addEventListener("htmx:sendError", function () {
    announce(document.body.getAttribute("data-error-network") || "Network error");
  });

  // Confirmation prompts declared in markup: data-confirm="message" on a form.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute && form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  }, true);
}());
