// Live updates: the page's WebSocket (/ws/agent or /ws/supervisor, named by
// <body data-ws>) turns every frame into an "anfu-refresh" event; HTMX regions listen to it
// (and also poll, so a dropped socket only slows things down). Reconnects with back-off.
(function () {
  "use strict";
  var delay = 1000;

  function refresh(detail) {
    if (typeof htmx !== "undefined") htmx.trigger(document.body, "anfu-refresh", detail || {});
  }

  function connect() {
    var path = document.body.dataset.ws;
    if (!path || !("WebSocket" in window)) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + location.host + path);
    ws.onopen = function () {
      delay = 1000;
      document.body.dataset.live = "on";
    };
    ws.onmessage = function (msg) {
      var frame = {};
      try { frame = JSON.parse(msg.data); } catch (err) { return; }
      if (frame.type === "hello" || frame.type === "pong") return;
      refresh({ type: frame.type });
    };
    ws.onclose = function () {
      document.body.dataset.live = "off";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }

  document.addEventListener("DOMContentLoaded", connect);
})();
