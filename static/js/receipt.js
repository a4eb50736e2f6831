// The receipt page: "Copy" and "Print" buttons. Without JavaScript they stay hidden;
// the code is still on the page, and the download link works without scripts.
(function () {
  "use strict";
  document.querySelectorAll("[data-receipt]").forEach(function (box) {
    var code = box.querySelector("[data-receipt-code]");
    var copy = box.querySelector("[data-receipt-copy]");
    var print = box.querySelector("[data-receipt-print]");
    var status = box.querySelector("[data-receipt-status]");
    if (copy && code && navigator.clipboard) {
      copy.hidden = false;
      copy.addEventListener("click", function () {
        navigator.clipboard.writeText(code.textContent.trim()).then(function () {
          status.textContent = status.dataset.copied;
        }, function () {
          status.textContent = status.dataset.failed;
        });
      });
    }
    if (print && window.print) {
      print.hidden = false;
      print.addEventListener("click", function () { window.print(); });
    }
  });
})();
