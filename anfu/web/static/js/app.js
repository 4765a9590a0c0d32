// Alpine components of the web workspace (CSP build: registered here, attributes only name
// properties and methods, nothing is evaluated from HTML).
document.addEventListener("alpine:init", function () {
  "use strict";

  // The reply composer: suggested replies and the offered rewrite insert their text into the
  // draft (for the agent to edit), which re-runs the pre-send check.
  Alpine.data("composer", function () {
    return {
      insert: function (event) {
        var button = event.currentTarget || event.target;
        var text = button.dataset.text || "";
        var draft = document.getElementById("draft");
        if (!draft) return;
        draft.value = text;
        draft.focus();
        draft.dispatchEvent(new Event("input", { bubbles: true }));
      },
    };
  });

  // A menu that opens and closes (language, user).
  Alpine.data("toggle", function () {
    return {
      open: false,
      flip: function () { this.open = !this.open; },
      close: function () { this.open = false; },
    };
  });

  // Copy the survey link to the clipboard.
  Alpine.data("copyLink", function () {
    return {
      copied: false,
      copy: function (event) {
        var input = document.getElementById(event.currentTarget.dataset.target);
        if (!input) return;
        input.select();
        if (navigator.clipboard) navigator.clipboard.writeText(input.value);
        this.copied = true;
      },
    };
  });
});

// A tick of the SLA clocks on the page: [data-due] elements show the time left until their
// ISO due time and turn red when it passed (the server state stays the authority).
(function () {
  "use strict";
  function tick() {
    document.querySelectorAll("[data-due]").forEach(function (el) {
      if (el.dataset.paused === "1") return;
      var left = (new Date(el.dataset.due).getTime() - Date.now()) / 1000;
      var sign = left < 0 ? "-" : "";
      var s = Math.abs(left);
      var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
      el.textContent = sign + h + ":" + String(m).padStart(2, "0") + ":" + String(sec).padStart(2, "0");
      el.classList.toggle("breached", left < 0);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 1000); });
})();

// The navigation menu on narrow screens: the button opens and closes it.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("nav-toggle");
    if (!button) return;
    button.addEventListener("click", function () {
      var bar = button.closest(".topbar");
      var open = !bar.classList.contains("nav-open");
      bar.classList.toggle("nav-open", open);
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  });
})();

// Alerts announced to screen readers: the board marks its newest alert ([data-announce]); when
// that changes after a refresh, its text goes to the page's live region (#alert-announcer).
(function () {
  "use strict";
  var last = null;
  function announce() {
    var region = document.getElementById("alert-announcer");
    var newest = document.querySelector("[data-announce]");
    if (!region || !newest) return;
    var id = newest.dataset.announce;
    if (last !== null && id !== last) region.textContent = newest.textContent.trim();
    last = id;
  }
  document.addEventListener("DOMContentLoaded", announce);
  document.addEventListener("htmx:afterSwap", announce);
})();
