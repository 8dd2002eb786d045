// facefile: the message after a write. After an error, put back what the user typed in the form
// that failed (the server sends the fields with the message); a suggested name fills the box it
// belongs to; an Undo that takes later actions with it asks first.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const flash = document.getElementById("flash-bar");
  if (flash) {
    refill(flash);
    flash.querySelectorAll("button[data-fill]").forEach((button) => {
      button.addEventListener("click", () => {
        const field = fieldOf(button.dataset.fillForm, button.dataset.fillField);
        if (!field) return;
        field.value = button.dataset.fill;
        field.focus();
      });
    });
  }
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});

// Only boxes the user types in: hidden fields, checkboxes and buttons keep what the page gave them.
const TYPED = ["text", "search", "date", "number", "email", ""];

function formOf(action) {
  return Array.from(document.querySelectorAll("form")).find((f) => f.getAttribute("action") === action);
}

function fieldOf(action, name) {
  const form = formOf(action);
  if (!form || !name) return null;
  const field = form.elements.namedItem(name);
  return field instanceof HTMLInputElement && TYPED.includes(field.getAttribute("type") || "") ? field : null;
}

function refill(flash) {
  if (!flash.dataset.kept) return;
  let kept;
  try { kept = JSON.parse(flash.dataset.kept); } catch (_) { return; }
  let first = null;
  for (const [name, value] of Object.entries(kept)) {
    const field = fieldOf(flash.dataset.keptForm, name);
    if (!field || !value) continue;
    field.value = value;
    const folded = field.closest("details");
    if (folded) folded.open = true;
    first = first || field;
  }
  if (first) {
    first.focus();
    first.select();
  }
}
