// Keyboard shortcuts of the agent console: `/` (or a Chinese input method's "、") in an empty
// draft, or the 话术库 button, opens the canned-reply picker, Ctrl+Enter (⌘+Enter) sends the
// draft, Esc leaves the field you are typing in and, outside a field, closes the conversation
// (back to the list), `?` lists the shortcuts.
// Choosing a 话术 puts it in the draft, which runs the pre-send check. A note form is emptied
// once its note is saved. Plain script (CSP: nothing evaluated from HTML).
(function () {
  "use strict";
  function typing(el) {
    return el && (el.tagName === "TEXTAREA" || el.tagName === "INPUT" || el.tagName === "SELECT" || el.isContentEditable);
  }

  function openPicker() {
    var picker = document.getElementById("reply-picker");
    if (!picker || picker.open) return;
    picker.showModal();
    var search = document.getElementById("picker-q");
    if (search) search.focus();
    if (typeof htmx !== "undefined") htmx.trigger(document.body, "anfu-picker-open", {});
  }

  function choose(button) {
    var draft = document.getElementById("draft");
    var picker = document.getElementById("reply-picker");
    if (picker && picker.open) picker.close();
    if (!draft) return;
    draft.value = button.dataset.text || "";
    draft.focus();
    draft.dispatchEvent(new Event("input", { bubbles: true })); // the pre-send check runs on input
  }

  document.addEventListener("click", function (event) {
    var pick = event.target.closest && event.target.closest("#reply-picker button.pick");
    if (pick) { event.preventDefault(); choose(pick); return; }
    if (event.target.closest && event.target.closest("#open-picker")) { event.preventDefault(); openPicker(); }
  });

  // With a Chinese input method the key is "Process" and the draft receives "、" (or "/"): a
  // draft that is only that opens the picker too.
  document.addEventListener("input", function (event) {
    var draft = event.target;
    if (!draft || draft.id !== "draft" || event.isComposing) return;
    if (draft.value === "/" || draft.value === "、" || draft.value === "／") {
      draft.value = "";
      openPicker();
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail && event.detail.elt;
    if (form && form.matches && form.matches("form.note-form") && event.detail.successful) form.reset();
  });

  document.addEventListener("keydown", function (event) {
    var dialog = document.getElementById("shortcuts");
    var picker = document.getElementById("reply-picker");
    if (picker && picker.open) {
      if (event.key === "Enter" && event.target.id === "picker-q") { // Enter takes the first 话术
        event.preventDefault();
        var first = picker.querySelector("button.pick");
        if (first) choose(first);
      }
      return; // the dialog closes itself on Esc
    }
    if (dialog && dialog.open) return;
    if (event.key === "/" && event.target.id === "draft" && !event.target.value.trim()) {
      event.preventDefault();
      openPicker();
      return;
    }
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
