// A list of credit reports: while some are in preparation, poll their status and reload the page
// once one of them is ready (or has failed).
(function () {
  "use strict";
  var pending = document.querySelectorAll(".report-status[data-status-url]");
  if (!pending.length) { return; }
  function poll() {
    var checks = Array.prototype.map.call(pending, function (el) {
      return fetch(el.getAttribute("data-status-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}, cache: "no-store"})
        .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
        .then(function (data) { return data.in_preparation; });
    });
    Promise.all(checks)
      .then(function (states) {
        if (states.some(function (s) { return !s; })) { window.location.reload(); } else { window.setTimeout(poll, 3000); }
      })
      .catch(function () { window.setTimeout(poll, 6000); });
  }
  window.setTimeout(poll, 2000);
})();
