// The import page follows its import: polls the status every 2 seconds, shows the progress, and
// reloads the page once the import has finished (its report is then rendered by the server).
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  var url = box && box.getAttribute("data-status-url");
  if (!url) { return; }
  var bar = document.getElementById("import-bar");
  var percent = document.getElementById("import-percent");
  var summary = document.getElementById("import-summary");
  var status = document.getElementById("import-status");
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}, cache: "no-store"})
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
      .then(function (data) {
        if (data.total_rows !== null || data.finished) { bar.value = data.percent; }
        bar.textContent = data.percent + "%";
        percent.textContent = data.percent + "%";
        summary.textContent = data.summary;
        status.textContent = data.status_label;
        if (data.finished) { window.location.reload(); } else { window.setTimeout(poll, 2000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
})();
