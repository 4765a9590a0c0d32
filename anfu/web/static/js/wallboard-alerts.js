// L2+ alerts on the wallboard: the page title carries the number nobody has acknowledged yet
// ("(2) 班长监控墙 · Anfu"), and a new one rings a short beep (generated with WebAudio, no file)
// and shows a browser notification once the supervisor has allowed them (the button asks, as
// browsers only ask after a click). The board's #urgent-alerts element says how many there are
// and the newest one's id; it is re-read after every refresh of the board. Plain script (CSP).
(function () {
  "use strict";
  var baseTitle = document.title.replace(/^\(\d+\)\s*/, "");
  var lastNewest = null;
  var audio = null;

  function beep() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    try {
      audio = audio || new Ctx();
      if (audio.state === "suspended") audio.resume(); // allowed once the page had a click
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.2, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.25);
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.25);
      document.body.dataset.beeps = String(Number(document.body.dataset.beeps || 0) + 1);
    } catch (err) { /* no sound where the browser forbids it; the title still counts */ }
  }

  function notify(el) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    try {
      new Notification(el.dataset.title || baseTitle, { body: el.dataset.body || "", tag: "anfu-alert-" + el.dataset.newest });
      document.body.dataset.notified = el.dataset.newest;
    } catch (err) { /* some browsers allow notifications from a service worker only */ }
  }

  function showState() {
    var state = document.getElementById("notify-state");
    var button = document.getElementById("enable-notify");
    if (!state || !("Notification" in window)) return;
    if (Notification.permission === "granted") {
      state.textContent = state.dataset.on;
      if (button) button.hidden = true;
    } else if (Notification.permission === "denied") {
      state.textContent = state.dataset.denied;
    }
  }

  function update() {
    var el = document.getElementById("urgent-alerts");
    if (!el) return;
    var count = Number(el.dataset.urgent || 0);
    var newest = Number(el.dataset.newest || 0);
    document.title = count > 0 ? "(" + count + ") " + baseTitle : baseTitle;
    document.body.dataset.urgent = String(count);
    if (lastNewest !== null && newest > lastNewest) {
      beep();
      notify(el);
    }
    lastNewest = Math.max(lastNewest || 0, newest);
  }

  document.addEventListener("DOMContentLoaded", function () {
    update();
    showState();
    var button = document.getElementById("enable-notify");
    if (button) {
      button.addEventListener("click", function () {
        beep(); // a click also unlocks the sound
        if ("Notification" in window && Notification.permission === "default") {
          Notification.requestPermission().then(showState);
        } else {
          showState();
        }
      });
    }
  });
  document.addEventListener("htmx:afterSwap", update);
})();
