/* JumpStart UI's own script, loaded by base.html. The Content-Security-Policy runs no inline
   script or handler, so what a page does beyond htmx lives here:
   - htmx errors are never silent: a refused or failed request shows the error banner;
   - [data-elapsed-since] elements tick every second, worded as the server's `duration` filter;
   - [data-submit-on-change] form controls submit their form when changed;
   - [data-fill] buttons put their data-value into the input their data-fill selector names (the
     bucket browser's "Use this folder", a benchmark row's "Use"), [data-check] ticks the radio or
     box its selector names, and [data-close] removes what its selector names;
   - [data-follow-tail] boxes (a log tail) stay scrolled to their end as lines arrive, unless the
     reader has scrolled up. */
(function () {
  "use strict";

  var UNREACHABLE = "The server could not be reached: check your connection and try again.";

  // The error banner ------------------------------------------------------------------------

  var failedElt = null;

  function banner() {
    return document.getElementById("error-banner");
  }

  function showError(message, elt) {
    var box = banner();
    if (!box) return;
    failedElt = elt || null;
    box.hidden = false;
    // Set after unhiding, so screen readers announce the alert.
    box.querySelector("[role=alert]").textContent = message;
  }

  function hideError() {
    var box = banner();
    if (box) box.hidden = true;
    failedElt = null;
  }

  // What the server said: an error fragment carries its message in a [role=alert] element.
  function serverMessage(xhr) {
    var type = xhr.getResponseHeader("Content-Type") || "";
    if (type.indexOf("text/html") === 0 && xhr.responseText) {
      // DOMParser builds an inert document: nothing in it runs or loads.
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var carried = doc.querySelector("[role=alert]");
      var text = carried && carried.textContent.replace(/\s+/g, " ").trim();
      if (text) return text;
    }
    return "The server answered " + xhr.status + (xhr.statusText ? " " + xhr.statusText : "") +
      ": reload the page and try again.";
  }

  document.addEventListener("htmx:responseError", function (event) {
    showError(serverMessage(event.detail.xhr), event.detail.elt);
  });
  document.addEventListener("htmx:sendError", function (event) {
    showError(UNREACHABLE, event.detail.elt);
  });
  // The request that failed went through this time: its error no longer holds. (Other requests,
  // such as a page's polling, leave it in place.)
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful && failedElt && event.detail.elt === failedElt) hideError();
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-dismiss-banner]")) hideError();
  });

  // Elapsed time ----------------------------------------------------------------------------

  // As jobs/templatetags/jobs_extras.py's duration: '45 s', '12 min', '3 h 5 min', '2 d 4 h'.
  function duration(totalSeconds) {
    var seconds = Math.max(0, Math.floor(totalSeconds));
    var days = Math.floor(seconds / 86400);
    var hours = Math.floor((seconds % 86400) / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    if (days) return days + " d " + hours + " h";
    if (hours) return hours + " h " + minutes + " min";
    if (minutes) return minutes + " min";
    return (seconds % 60) + " s";
  }

  // ISO 8601 as Django writes it; JavaScript's parser reads at most milliseconds.
  function parseTime(text) {
    return Date.parse(String(text).trim().replace(/(\.\d{3})\d+/, "$1"));
  }

  function tick() {
    var now = Date.now();
    var elements = document.querySelectorAll("[data-elapsed-since]");
    for (var i = 0; i < elements.length; i++) {
      var el = elements[i];
      var since = parseTime(el.getAttribute("data-elapsed-since"));
      var until = el.hasAttribute("data-elapsed-until") ? parseTime(el.getAttribute("data-elapsed-until")) : now;
      if (isNaN(since) || isNaN(until)) continue;
      var text = duration((until - since) / 1000);
      if (el.textContent !== text) el.textContent = text;
    }
  }

  // Elements htmx swaps in are ticked as soon as they settle, then every second with the rest.
  document.addEventListener("htmx:afterSettle", tick);
  setInterval(tick, 1000);
  tick();

  // Forms that submit on change -------------------------------------------------------------

  document.addEventListener("change", function (event) {
    var control = event.target;
    if (!control.matches || !control.matches("[data-submit-on-change]") || !control.form) return;
    if (control.form.requestSubmit) control.form.requestSubmit();
    else control.form.submit();
  });

  // Fill and close -----------------------------------------------------------------------------

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-fill], [data-close], [data-check]");
    if (!button) return;
    event.preventDefault();
    var target = button.hasAttribute("data-fill") && document.querySelector(button.getAttribute("data-fill"));
    if (target) {
      target.value = button.getAttribute("data-value") || "";
      // A folder chosen for the training data means "my own data".
      var own = target.form && target.form.querySelector("input[name=data_source][value=own]");
      if (own) own.checked = true;
      target.dispatchEvent(new Event("change", { bubbles: true }));
      target.focus();
    }
    var checked = button.hasAttribute("data-check") && document.querySelector(button.getAttribute("data-check"));
    if (checked) checked.checked = true;
    var gone = button.hasAttribute("data-close") && document.querySelector(button.getAttribute("data-close"));
    if (gone) {
      // An empty placeholder of the same id stays, for the next "Find S3 bucket" to fill.
      var placeholder = document.createElement("div");
      placeholder.id = gone.id;
      gone.replaceWith(placeholder);
    }
  });

  // Typing a location of one's own means "my own data" too.
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[name=training_uri]") || !input.form) return;
    var own = input.form.querySelector("input[name=data_source][value=own]");
    if (own) own.checked = true;
  });

  // Log tails -------------------------------------------------------------------------------------

  var atEnd = {};
  document.addEventListener("htmx:beforeSwap", function () {
    var boxes = document.querySelectorAll("[data-follow-tail]");
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      atEnd[box.id] = box.scrollHeight - box.scrollTop - box.clientHeight < 24;
    }
  });
  function followTails() {
    var boxes = document.querySelectorAll("[data-follow-tail]");
    for (var i = 0; i < boxes.length; i++) {
      if (atEnd[boxes[i].id] !== false) boxes[i].scrollTop = boxes[i].scrollHeight;
    }
  }
  document.addEventListener("htmx:afterSettle", followTails);
  followTails();

  window.jumpstart = { duration: duration, tick: tick };
})();
