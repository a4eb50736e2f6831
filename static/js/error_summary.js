// GOV.UK's error summary: when a form comes back with errors, move focus to the summary, so that
// keyboard and screen reader users start from the list of problems (each links to its field).
// Without JavaScript the form's address ends in #..., which scrolls the summary into view.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest("#error-summary a[href^='#']");
    var field = link && document.getElementById(link.getAttribute("href").slice(1));
    if (field) {
      event.preventDefault();
      field.focus();
      field.scrollIntoView({ block: "center" });
    }
  });
})();
