// facefile People UI: a little plain JavaScript on top of pages that work without it.
// Multi-select with shift-click ranges, keyboard answers on the review pages, person search
// suggestions, photo boxes that focus their form, and live scan progress.
"use strict";

document.documentElement.classList.add("js");  // hides what only pages without script need (Apply)

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-multiselect]").forEach(setUpMultiselect);
  document.querySelectorAll("form[data-face-grid]").forEach(setUpFaceGridKeys);
  document.querySelectorAll("[data-more-items]").forEach(setUpMorePages);
  document.querySelectorAll("form[data-live-search]").forEach(setUpLiveSearch);
  document.querySelectorAll("[data-enter]").forEach(setUpEnterButton);
  setUpPersonSearch();
  setUpReviewKeys();
  setUpPhotoBoxes();
  const live = document.querySelector("[data-scan-status]");
  if (live) pollScanStatus(live);
});

// Faces of a form ticked by click, shift-click (a range since the last one), the keyboard (space,
// shift-space) and Select all / none; the count says how many. Faces loaded later are included.
function setUpMultiselect(form) {
  const boxes = () => Array.from(form.querySelectorAll("input[type=checkbox][name=face]"));
  const counter = form.querySelector("[data-selected-count]");
  form.countSelected = () => {
    if (counter) counter.textContent = boxes().filter((b) => b.checked).length + " selected";
  };
  let last = null;
  form.tickFace = (box, checked, range) => {
    if (range && last && last !== box && form.contains(last)) {
      const all = boxes();
      const [a, b] = [all.indexOf(last), all.indexOf(box)].sort((x, y) => x - y);
      all.slice(a, b + 1).forEach((other) => { other.checked = checked; });
    }
    box.checked = checked;
    last = box;
    form.countSelected();
  };
  form.addEventListener("click", (event) => {
    const box = event.target.closest("input[type=checkbox][name=face]");
    if (box) form.tickFace(box, box.checked, event.shiftKey);  // the click has already flipped it
  });
  const setAll = (checked) => { boxes().forEach((b) => { b.checked = checked; }); form.countSelected(); };
  const all = form.querySelector("[data-select-all]");
  const none = form.querySelector("[data-select-none]");
  if (all && none) {
    all.addEventListener("click", async () => {  // all of them: the pages not loaded yet first
      const more = form.querySelector("[data-more-items]");
      if (more && more.loadAll) await more.loadAll();
      setAll(true);
    });
    none.addEventListener("click", () => setAll(false));
  } else if (all) {  // one button that toggles
    all.addEventListener("click", () => {
      const ticked = boxes().every((b) => b.checked);
      setAll(!ticked);
      all.textContent = ticked ? "Select all" : "Select none";
    });
  }
  form.countSelected();
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

// Arrow keys move among the faces of a grid (up and down to the nearest face of the row above or
// below, whatever the column count), Home / End to the ends; space ticks (shift: the range), shift
// with an arrow extends the selection, Enter opens the face's photo, Escape clears the selection.
function setUpFaceGridKeys(form) {
  const boxes = () => Array.from(form.querySelectorAll("input[type=checkbox][name=face]"));
  const centre = (box) => {
    const r = box.closest("label").getBoundingClientRect();
    return { x: r.left + r.width / 2, y: r.top + r.height / 2, h: r.height };
  };
  const below = (from, all, dir) => {
    const here = centre(from);
    let best = null;
    let bestRow = Infinity;
    let bestDx = Infinity;
    for (const box of all) {
      const c = centre(box);
      const dy = (c.y - here.y) * dir;
      if (dy < here.h / 2) continue;  // the same row, or the wrong way
      const dx = Math.abs(c.x - here.x);
      if (dy < bestRow - 1 || (Math.abs(dy - bestRow) <= 1 && dx < bestDx)) {
        best = box;
        bestRow = dy;
        bestDx = dx;
      }
    }
    return best;
  };
  form.addEventListener("keydown", (event) => {
    const box = event.target.closest && event.target.closest("input[type=checkbox][name=face]");
    if (!box || event.ctrlKey || event.metaKey || event.altKey) return;
    const all = boxes();
    const at = all.indexOf(box);
    const moves = {
      ArrowLeft: () => all[at - 1], ArrowRight: () => all[at + 1], Home: () => all[0],
      End: () => all[all.length - 1], ArrowUp: () => below(box, all, -1), ArrowDown: () => below(box, all, 1),
    };
    if (moves[event.key]) {
      event.preventDefault();
      const next = moves[event.key]();
      if (!next) return;
      next.focus({ preventScroll: true });
      next.closest("label").scrollIntoView({ block: "nearest" });
      if (event.shiftKey && form.tickFace) form.tickFace(next, true, true);
    } else if (event.key === " ") {
      event.preventDefault();
      if (form.tickFace) form.tickFace(box, !box.checked, event.shiftKey);
    } else if (event.key === "Enter") {
      event.preventDefault();  // not the form's first button: opening is what Enter does here
      const open = box.closest("label").querySelector("a.open");
      if (open) location.href = open.href;
    } else if (event.key === "Escape") {
      all.forEach((b) => { b.checked = false; });
      if (form.countSelected) form.countSelected();
    }
  });
}

// Long grids come in pages; when the page's "next" link nears the screen, the next page is fetched
// and its faces appended (a month split by the page break stays under one heading). Without script
// the links still page.
function setUpMorePages(items) {
  const pager = () => document.querySelector("nav.pager");
  const nextLink = () => { const p = pager(); return p && p.querySelector("a[rel=next]"); };
  if (!nextLink() || !("IntersectionObserver" in window)) return;
  let loading = null;  // the page being fetched: one at a time
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) loadMore();
  }, { rootMargin: "800px 0px" });
  const loadMore = () => {
    if (!loading) loading = loadNext().finally(() => { loading = null; });
    return loading;
  };
  items.loadAll = async () => {
    while (nextLink() && await loadMore()) { /* the next page */ }
  };
  async function loadNext() {
    const link = nextLink();
    if (!link) return false;
    const response = await fetch(link.href, { credentials: "same-origin" });
    if (!response.ok) return false;
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const more = page.querySelector("[data-more-items]");
    if (!more) return false;
    for (const child of Array.from(more.children)) {
      const lastMonth = items.lastElementChild;
      if (child.dataset.month !== undefined && lastMonth && lastMonth.dataset.month === child.dataset.month) {
        lastMonth.querySelector("ul").append(...child.querySelectorAll("ul > li"));
      } else {
        items.append(child);
      }
    }
    const newPager = page.querySelector("nav.pager");
    const again = newPager && newPager.querySelector("a[rel=next]");
    observer.unobserve(link);
    if (again) {  // only its "next" link: what came before is on this page now
      newPager.classList.add("loaded");
      pager().replaceWith(newPager);
      observer.observe(again);
    } else {
      pager().remove();  // everything is shown
    }
    const form = items.closest("form");
    if (form && form.countSelected) form.countSelected();
    return true;
  }
  observer.observe(nextLink());
}

// The People page filters as one types and sorts as one chooses, without Apply or a reload: the
// results part of the page is fetched and swapped, the address kept in step (a reload shows the
// same). Enter still submits the form where there is no script.
function setUpLiveSearch(form) {
  const results = document.querySelector("[data-live-results]");
  if (!results) return;
  let timer = null;
  let controller = null;
  let shown = location.search;
  async function update() {
    const params = new URLSearchParams(new FormData(form));
    if (!params.get("q")) params.delete("q");
    const query = params.toString();
    const url = form.action.split("?")[0] + (query ? "?" + query : "");
    if ("?" + query === shown || (query === "" && shown === "")) return;
    if (controller) controller.abort();  // an older answer must not overwrite a newer one
    controller = new AbortController();
    try {
      const response = await fetch(url, { credentials: "same-origin", signal: controller.signal });
      if (!response.ok) return;
      const found = new DOMParser().parseFromString(await response.text(), "text/html").querySelector("[data-live-results]");
      if (!found) return;
      results.replaceChildren(...found.childNodes);
      shown = query ? "?" + query : "";
      history.replaceState(null, "", url);
    } catch (error) {
      if (error.name !== "AbortError") throw error;
    }
  }
  form.addEventListener("input", (event) => {
    if (event.target.name !== "q") return;
    clearTimeout(timer);
    timer = setTimeout(update, 200);
  });
  form.addEventListener("change", (event) => {
    if (event.target.name !== "q") update();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    update();
  });
}

// ---------------------------------------------------------------------------------------------
// Hand-drawn faces (the photo page): "Draw a missed face", then drag a box over the face. The box
// is read in the photo's own pixels (the SVG's viewBox) and written into the form's corner fields,
// which also work by hand without this script; typing a corner redraws the box.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("svg[data-draw-photo]").forEach(setUpFaceDrawing);
});

function setUpFaceDrawing(svg) {
  const form = document.getElementById("draw-face-form");
  const toggle = form && form.querySelector("[data-draw-toggle]");
  if (!toggle) return;
  const corners = ["x1", "y1", "x2", "y2"].map((name) => form.querySelector(`[data-draw-${name}]`));
  const view = svg.viewBox.baseVal;
  const clamp = (v, hi) => Math.min(Math.max(v, 0), hi);
  let drawing = false;
  let start = null;
  let box = null;
  const mode = (on) => {
    drawing = on;
    svg.classList.toggle("drawing", on);
    toggle.setAttribute("aria-pressed", String(on));
    toggle.textContent = on ? "Drag over the face…" : "Draw a missed face";
  };
  const at = (event) => {  // screen -> photo pixels
    const p = svg.createSVGPoint();
    p.x = event.clientX;
    p.y = event.clientY;
    const q = p.matrixTransform(svg.getScreenCTM().inverse());
    return { x: clamp(q.x, view.width), y: clamp(q.y, view.height) };
  };
  const show = (x1, y1, x2, y2) => {
    if (!box) {
      box = document.createElementNS("http://www.w3.org/2000/svg", "rect");
      box.classList.add("drawn-box");
      box.setAttribute("vector-effect", "non-scaling-stroke");
      svg.appendChild(box);
    }
    box.setAttribute("x", Math.min(x1, x2));
    box.setAttribute("y", Math.min(y1, y2));
    box.setAttribute("width", Math.abs(x2 - x1));
    box.setAttribute("height", Math.abs(y2 - y1));
  };
  toggle.hidden = false;
  toggle.addEventListener("click", () => mode(!drawing));
  svg.addEventListener("pointerdown", (event) => {
    if (!drawing || event.button !== 0) return;
    event.preventDefault();
    start = at(event);
    show(start.x, start.y, start.x, start.y);
    svg.setPointerCapture(event.pointerId);
  });
  svg.addEventListener("pointermove", (event) => {
    if (!start) return;
    const p = at(event);
    show(start.x, start.y, p.x, p.y);
  });
  svg.addEventListener("pointerup", (event) => {
    if (!start) return;
    const end = at(event);
    const values = [Math.min(start.x, end.x), Math.min(start.y, end.y), Math.max(start.x, end.x), Math.max(start.y, end.y)];
    start = null;
    values.forEach((v, i) => { corners[i].value = Math.round(v); });
    show(...values);
    mode(false);
    const who = form.querySelector("[data-person-search]");
    if (who) who.focus();
  });
  svg.addEventListener("pointercancel", () => { start = null; });
  form.addEventListener("input", (event) => {
    if (!corners.includes(event.target)) return;
    const v = corners.map((c) => parseFloat(c.value));
    if (v.every((n) => Number.isFinite(n))) show(...v);
  });
}
