// The timed breathing exercise of the after-contact prompt (wellbeing.yaml: prompt.breathing).
// Inhale, hold and exhale seconds and the number of rounds come from data- attributes; the
// circle grows while inhaling and shrinks while exhaling. Nothing is sent anywhere.
(function () {
  "use strict";
  function start(box) {
    var circle = document.getElementById("breath-circle");
    var phaseEl = document.getElementById("breath-phase");
    var countEl = document.getElementById("breath-count");
    var roundEl = document.getElementById("breath-round");
    var button = document.getElementById("breath-start");
    var phases = [
      ["inhale", Number(box.dataset.inhale), box.dataset.labelInhale],
      ["hold", Number(box.dataset.hold), box.dataset.labelHold],
      ["exhale", Number(box.dataset.exhale), box.dataset.labelExhale],
    ].filter(function (p) { return p[1] > 0; });
    var rounds = Number(box.dataset.rounds), round = 0, index = -1, left = 0, timer = null;
    button.disabled = true;
    function next() {
      index += 1;
      if (index >= phases.length) { index = 0; }
      if (index === 0) {
        round += 1;
        if (round > rounds) { finish(); return; }
        roundEl.textContent = String(round);
      }
      var phase = phases[index];
      left = phase[1];
      circle.className = "breath-circle " + phase[0];
      circle.style.transitionDuration = phase[1] + "s";
      phaseEl.textContent = phase[2];
      countEl.textContent = String(left);
    }
    function tick() {
      left -= 1;
      if (left <= 0) { next(); } else { countEl.textContent = String(left); }
    }
    function finish() {
      clearInterval(timer);
      circle.className = "breath-circle";
      phaseEl.textContent = box.dataset.labelDone;
      countEl.textContent = "";
      box.dataset.done = "1";
      button.disabled = false;
    }
    next();
    timer = setInterval(tick, 1000);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("breathe");
    if (!box) return;
    document.getElementById("breath-start").addEventListener("click", function () { start(box); });
  });
})();
