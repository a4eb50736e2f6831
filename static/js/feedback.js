// "Is this easy to understand?" without a page reload. Without JavaScript the
// same forms post normally and the page comes back with the next step.
(function () {
  "use strict";
  function enhance(widget) {
    widget.addEventListener("submit", function (event) {
      var form = event.target.closest("[data-feedback-form]");
      if (!form || !window.fetch || !window.FormData) { return; }
      event.preventDefault();
      var data = new FormData(form);
      if (event.submitter && event.submitter.name) {
        data.append(event.submitter.name, event.submitter.value);
      }
      fetch(form.action, {
        method: "POST",
        body: data,
        headers: { "Accept": "application/json", "X-Requested-With": "fetch" },
        credentials: "same-origin"
      }).then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      }).then(function (result) {
        if (result.ok && result.body.html) {
          var holder = document.createElement("div");
          holder.innerHTML = result.body.html;
          var fresh = holder.querySelector("[data-feedback-widget]");
          widget.replaceWith(fresh);
          enhance(fresh);
          // The first reason when asked why; otherwise the thank-you, so screen readers hear it.
          var focusTarget = fresh.querySelector("input[type=radio]") || fresh.querySelector("[role=status]");
          if (focusTarget) {
            if (!focusTarget.hasAttribute("tabindex") && focusTarget.getAttribute("role") === "status") {
              focusTarget.setAttribute("tabindex", "-1");
            }
            focusTarget.focus();
          }
        } else {
          var error = widget.querySelector("[data-feedback-error]") || document.createElement("p");
          error.setAttribute("data-feedback-error", "");
          error.setAttribute("role", "alert");
          error.className = "text-danger mt-2 mb-0";
          error.textContent = result.body.error || "";
          widget.appendChild(error);
        }
      }).catch(function () {
        // The network failed: fall back to an ordinary post, keeping the pressed button.
        if (event.submitter && event.submitter.name) {
          var hidden = document.createElement("input");
          hidden.type = "hidden";
          hidden.name = event.submitter.name;
          hidden.value = event.submitter.value;
          form.appendChild(hidden);
        }
        HTMLFormElement.prototype.submit.call(form);
      });
    });
  }
  document.querySelectorAll("[data-feedback-widget]").forEach(enhance);
})();
