/* Behaviour shared by every page, without inline scripts (the Content-Security-Policy
   allows scripts from our own files only):
   - [data-colour]: a colour that comes from data (a status or zone level) becomes the
     element's --colour custom property (CSS draws with it);
   - [data-autosubmit]: a select or checkbox that submits its form when changed;
   - [data-confirm]: a button or form that asks before it goes ahead.
   Runs on load and on every piece of page htmx swaps in. */
(function () {
  "use strict";

  function paint(root) {
    root.querySelectorAll("[data-colour]").forEach(function (el) {
      var colour = el.getAttribute("data-colour");
      if (/^#[0-9a-fA-F]{3,8}$/.test(colour)) {
        el.style.setProperty("--colour", colour);
      }
    });
  }

  function setUp(root) {
    if (!root || !root.querySelectorAll) return;
    paint(root);
    if (root.matches && root.matches("[data-colour]")) paint(root.parentNode || root);
  }

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el && el.closest && el.closest("[data-autosubmit]") && el.form) {
      if (el.form.requestSubmit) el.form.requestSubmit();
      else el.form.submit();
    }
  });

  document.addEventListener("click", function (event) {
    var el = event.target && event.target.closest ? event.target.closest("[data-confirm]") : null;
    if (el && !window.confirm(el.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  document.addEventListener("htmx:load", function (event) { setUp(event.target); });
})();
