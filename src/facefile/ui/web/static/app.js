// facefile People UI: a little plain JavaScript on top of pages that work without it.
// Multi-select with shift-click ranges, keyboard answers on the review pages, person search
// suggestions, photo boxes that focus their form, and live scan progress.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-multiselect]").forEach(setUpMultiselect);
  document.querySelectorAll("[data-enter]").forEach(setUpEnterButton);
  setUpPersonSearch();
  setUpReviewKeys();
  setUpPhotoBoxes();
  const live = document.querySelector("[data-scan-status]");
  if (live) pollScanStatus(live);
});

function setUpMultiselect(form) {
  const boxes = () => Array.from(form.querySelectorAll('input[type=checkbox][name=face]'));
  const counter = form.querySelector("[data-selected-count]");
  const count = () => {
    if (counter) counter.textContent = boxes().filter((b) => b.checked).length + " selected";
  };
  let last = null;
  form.addEventListener("click", (event) => {
    const box = event.target.closest('input[type=checkbox][name=face]');
    if (!box) return;
    if (event.shiftKey && last) {  // tick (or untick) the whole range since the last click
      const all = boxes();
      const [a, b] = [all.indexOf(last), all.indexOf(box)].sort((x, y) => x - y);
      all.slice(a, b + 1).forEach((other) => { other.checked = box.checked; });
    }
    last = box;
    count();
  });
  const all = form.querySelector("[data-select-all]");
  if (all) all.addEventListener("click", () => {
    const ticked = boxes().every((b) => b.checked);
    boxes().forEach((b) => { b.checked = !ticked; });
    all.textContent = ticked ? "Select all" : "Select none";
    count();
  });
  count();
}

// Enter in a "new person's name" box presses its own button, not the form's first one.
function setUpEnterButton(input) {
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    const button = input.form.querySelector(`button[name=action][value="${input.dataset.enter}"]`);
    if (button) button.click();
  });
}

function setUpPersonSearch() {
  const list = document.getElementById("person-options");
  let timer = null;
  let asked = "";
  document.addEventListener("input", (event) => {
    const input = event.target;
    if (!input.matches || !input.matches("[data-person-search]")) return;
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = input.value.trim();
      if (q === asked || /\(#\d+\)$/.test(q)) return;
      asked = q;
      const response = await fetch("/api/persons?q=" + encodeURIComponent(q), { credentials: "same-origin" });
      if (!response.ok) return;
      list.replaceChildren(...(await response.json()).map((p) => {
        const option = document.createElement("option");
        option.value = p.value;
        option.textContent = `${p.faces} faces${p.hidden ? ", hidden" : ""}`;
        return option;
      }));
    }, 120);
  });
}

function setUpReviewKeys() {
  const section = document.querySelector("[data-review]");
  if (!section) return;
  const keys = { y: "y", ArrowRight: "y", n: "n", ArrowLeft: "n", s: "s", ArrowDown: "s" };
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, textarea, select")) return;  // typing a name, not answering
    const key = keys[event.key];
    if (!key) return;
    const button = section.querySelector(`button[data-key="${key}"]`);
    if (!button) return;
    event.preventDefault();
    button.click();
  });
}

function setUpPhotoBoxes() {
  const focus = () => {
    const id = location.hash.replace("#face-", "");
    document.querySelectorAll("[data-face-box]").forEach((box) => {
      box.classList.toggle("current", box.dataset.faceBox === id);
    });
    const row = document.getElementById("face-" + id);
    const input = row && row.querySelector("[data-person-search]");
    if (input) input.focus({ preventScroll: false });
  };
  if (document.querySelector("[data-face-box]")) {
    window.addEventListener("hashchange", focus);
    if (location.hash.startsWith("#face-")) focus();
  }
}

async function pollScanStatus(live) {
  let running = live.dataset.running === "1";
  for (;;) {
    await new Promise((done) => setTimeout(done, running ? 1000 : 3000));
    let status;
    try {
      const response = await fetch("/api/status", { credentials: "same-origin" });
      if (!response.ok) continue;
      status = await response.json();
    } catch (error) {
      continue;  // the server is restarting: try again
    }
    if (status.running !== running) {  // a scan started or ended: the table below changed too
      location.reload();
      return;
    }
    if (!running) continue;
    const stage = live.querySelector("[data-stage]");
    const progress = live.querySelector("[data-progress]");
    const bar = live.querySelector("[data-bar]");
    if (stage) stage.textContent = status.stage || "starting";
    if (progress) progress.textContent = status.done + (status.total ? " of " + status.total : "");
    if (bar) { bar.max = status.total || 1; bar.value = status.total ? status.done : 0; }
  }
}
