// Keyboard shortcuts of the agent console: Ctrl+Enter (⌘+Enter) sends the draft, Esc leaves
// the field you are typing in and, outside a field, closes the conversation (back to the list),
// `?` lists the shortcuts. Plain script (CSP: nothing evaluated from HTML).
(function () {
  "use strict";
  function typing(el) {
    return el && (el.tagName === "TEXTAREA" || el.tagName === "INPUT" || el.tagName === "SELECT" || el.isContentEditable);
  }
  document.addEventListener("keydown", function (event) {
    var dialog = document.getElementById("shortcuts");
    if (dialog && dialog.open) return; // the dialog closes itself on Esc
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      var draft = document.getElementById("draft");
      if (draft && event.target === draft && draft.form) {
        event.preventDefault();
        draft.form.requestSubmit();
      }
      return;
    }
    if (event.key === "Escape") {
      if (typing(event.target)) { event.target.blur(); return; }
      if (document.getElementById("composer")) { event.preventDefault(); window.location.assign("/console"); }
      return;
    }
    if (event.key === "?" && !typing(event.target) && dialog) {
      event.preventDefault();
      dialog.showModal();
    }
  });
})();
