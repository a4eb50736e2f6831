// GOV.UK's error summary: when a form comes back with errors, focus starts on the summary, so that
// keyboard and screen reader users hear the list of problems first (each links to its field). The
// form's address ends in #error-summary, which does that without JavaScript in most browsers; this
// makes sure of it, and makes the summary's links move focus into their field, not only scroll.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (!summary) { return; }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    var field = link && document.getElementById(link.getAttribute("href").slice(1));
    if (field) {
      event.preventDefault();
      field.focus();
      field.scrollIntoView({ block: "center" });
    }
  });
})();
