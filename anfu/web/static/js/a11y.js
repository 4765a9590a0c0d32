// 1. Keyboard access to scrolled content: a region that scrolls (a long thread, a wide table on a
// phone) and holds nothing focusable gets tabindex="0", so Tab reaches it and the arrow keys
// scroll it (WCAG 2.1.1). Run on load, after every HTMX swap and when the window is resized,
// because whether an element scrolls depends on its content and the screen width.
(function () {
  "use strict";
  var FOCUSABLE = "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), " +
    "select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex='-1'])";

  function reachable(el) {  // something inside that Tab can reach (shown: not in a closed dialog)
    var found = el.querySelectorAll(FOCUSABLE);
    for (var i = 0; i < found.length; i++) {
      if (found[i].getClientRects().length && getComputedStyle(found[i]).visibility !== "hidden") return true;
    }
    return false;
  }

  function scrolls(el) {
    var style = getComputedStyle(el);
    var x = /(auto|scroll)/.test(style.overflowX) && el.scrollWidth > el.clientWidth + 1;
    var y = /(auto|scroll)/.test(style.overflowY) && el.scrollHeight > el.clientHeight + 1;
    return x || y;
  }

  function mark(root) {
    (root || document).querySelectorAll("main *, aside *").forEach(function (el) {
      if (el.dataset.a11yScroll === "1") {
        if (!scrolls(el)) { el.removeAttribute("tabindex"); delete el.dataset.a11yScroll; }
        return;
      }
      if (el.hasAttribute("tabindex") || !scrolls(el) || reachable(el)) return;
      el.setAttribute("tabindex", "0");
      el.dataset.a11yScroll = "1";
    });
  }

  var pending = null;
  var marks = 0;
  function markNow() {
    pending = null;
    mark(document);
    // how many times the page was marked after a load or resize (browser tests wait on it)
    document.documentElement.setAttribute("data-a11y-marked", String(++marks));
  }
  function later() {  // a resize fires many times while the window is dragged: once it stops
    if (pending) clearTimeout(pending);
    pending = setTimeout(markNow, 100);
  }

  document.addEventListener("DOMContentLoaded", function () { mark(document); });
  // at once after a swap: a redrawn panel loses the attribute until it is marked again
  document.addEventListener("htmx:afterSettle", function () { mark(document); });
  window.addEventListener("resize", later);
  // after "load" (images and charts sized), on the next frame
  window.addEventListener("load", function () { requestAnimationFrame(markNow); });
  // content that grows after the load (charts drawn, a thread filled) can start to scroll
  document.addEventListener("DOMContentLoaded", function () {
    if (window.MutationObserver && document.querySelector("main")) {
      new MutationObserver(later).observe(document.querySelector("main"), { childList: true, subtree: true });
    }
  });
})();

// 3. Focus survives the timed refresh: a panel redrawn every few seconds ("every 4s") would throw
// away the control a keyboard user is on. While focus is inside the panel, the timed refresh
// skips its turn; refreshes caused by an event (a new message, a click) still run.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeRequest", function (event) {
    var detail = event.detail || {};
    var config = detail.requestConfig || {};
    var target = detail.target;
    var focused = document.activeElement;
    if (config.triggeringEvent || !target || !focused || focused === document.body) return;
    if (target.contains(focused)) event.preventDefault();
  });
})();

// 2. Alerts announced: an element with data-announce-key and data-announce (the console's ladder
// alert) is read out by screen readers when its key changes after the page loaded (the live
// panel is redrawn every few seconds, so the panel itself cannot be a live region: it would
// repeat itself). An alert that appears or changes after the load is announced; the one already
// on the page when it loads is not. The announcer is one assertive live region made here.
(function () {
  "use strict";
  var seen = {};
  var announcer = null;
  var ready = false;

  function keys(root) {
    (root || document).querySelectorAll("[data-announce-key][id]").forEach(function (el) {
      var key = el.dataset.announceKey;
      if (ready && seen[el.id] !== key && announcer) {  // changed, or appeared after the load
        announcer.textContent = "";
        // a new text node after a tick, so the same words are announced again
        setTimeout(function () { announcer.textContent = el.dataset.announce || ""; }, 50);
      }
      seen[el.id] = key;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    announcer = document.createElement("div");
    announcer.id = "a11y-announcer";
    announcer.className = "sr-only";
    announcer.setAttribute("role", "alert");
    announcer.setAttribute("aria-live", "assertive");
    announcer.setAttribute("aria-atomic", "true");
    document.body.appendChild(announcer);
    keys(document);
    ready = true;
  });
  document.addEventListener("htmx:afterSettle", function () { keys(document); });
})();
