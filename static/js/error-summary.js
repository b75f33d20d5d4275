// A form sent back with errors: its summary takes the focus, so that a keyboard or screen-reader
// user starts there and hears every error; each link of the summary moves the focus to its field
// and brings the field's label (a group's legend) into view with it.
(function () {
  "use strict";
  var summaries = document.querySelectorAll("[data-error-summary]:not([data-bound])");
  if (!summaries.length) { return; }
  Array.prototype.forEach.call(summaries, function (summary) {
    summary.setAttribute("data-bound", "");
    summary.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a[href^='#']") : null;
      if (!link) { return; }
      var target = document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
      if (!target) { return; }
      event.preventDefault();
      var group = target.closest(".field-group");
      var label = group ? group.querySelector("legend")
        : document.querySelector("label[for='" + (window.CSS && CSS.escape ? CSS.escape(target.id) : target.id) + "']");
      (label || target).scrollIntoView({block: "start"});
      target.focus({preventScroll: true});
    });
  });
  if (!document.querySelector("[data-error-summary][data-focused]")) {
    summaries[0].setAttribute("data-focused", "");
    summaries[0].focus();
  }
})();
