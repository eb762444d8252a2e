// Mask editor: a canvas of exactly the photo's pixel size, scaled by CSS over a display copy
// of the photo, so every stroke lands on source pixels. Strokes are kept as data: undo and
// redo replay them. The export is a PNG in which every pixel is opaque #7878CD or clear.

const PAINT = [0x78, 0x78, 0xcd];
const settings = JSON.parse(document.getElementById("editor-data").textContent);
const stage = document.getElementById("stage");
const board = document.getElementById("board");
const canvas = document.getElementById("mask");
const context = canvas.getContext("2d");
const cursor = document.getElementById("brush-cursor");
const sizeInput = document.getElementById("brush-size");
const sizeOutput = document.getElementById("brush-size-value");
const form = document.getElementById("order-form");
const errorBox = document.getElementById("editor-error");
const csrfToken = form.querySelector("[name=csrfmiddlewaretoken]").value;

// The history: strokes {tool, size, points: [[x, y], ...]}, {clear: true}, and {image} for a
// saved mask loaded as the new start. Undo removes the last entry, whatever it was.
const strokes = [];
const undone = [];
let current = null;      // the stroke being drawn
let tool = "brush";
let view = { scale: 1, x: 0, y: 0 };   // CSS transform of the board inside the stage
const pointers = new Map();            // active pointers, for pinch and two-finger pan
let gesture = null;
let spaceHeld = false;
let panning = null;

// --- Setup --------------------------------------------------------------------------------

function fitBoard({ keepView = false } = {}) {
  // The board is the photo fitted to the stage; zoom and pan transform it from there.
  const room = stage.getBoundingClientRect();
  const fit = Math.min(room.width / settings.width, room.height / settings.height);
  const width = settings.width * fit;
  const height = settings.height * fit;
  const before = board.getBoundingClientRect().width || width;
  board.style.width = `${width}px`;
  board.style.height = `${height}px`;
  if (keepView && view.scale > 1) {
    // A rotated tablet or a toolbar that wrapped: keep the zoom, scaled to the new size.
    const ratio = width * view.scale / before;
    view.x *= ratio;
    view.y *= ratio;
  } else {
    view = { scale: 1, x: (room.width - width) / 2, y: (room.height - height) / 2 };
  }
  applyView();
}

function applyView() {
  board.style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.scale})`;
}

function setBrushSize(size) {
  const largest = Math.max(8, Math.round(Math.max(settings.width, settings.height) / 4));
  sizeInput.max = largest;
  const value = Math.max(2, Math.min(largest, Math.round(size)));
  sizeInput.value = value;
  sizeOutput.textContent = value;
}

// --- Drawing ------------------------------------------------------------------------------

function toCanvas(event) {
  const box = canvas.getBoundingClientRect();
  return [
    ((event.clientX - box.left) * settings.width) / box.width,
    ((event.clientY - box.top) * settings.height) / box.height,
  ];
}

function styleFor(stroke) {
  context.globalCompositeOperation = stroke.tool === "eraser" ? "destination-out" : "source-over";
  context.strokeStyle = context.fillStyle = `rgb(${PAINT.join(",")})`;
  context.lineWidth = stroke.size;
  context.lineCap = "round";
  context.lineJoin = "round";
}

function drawDot(stroke, [x, y]) {
  styleFor(stroke);
  context.beginPath();
  context.arc(x, y, stroke.size / 2, 0, Math.PI * 2);
  context.fill();
}

function drawSegment(stroke, from, to) {
  styleFor(stroke);
  context.beginPath();
  context.moveTo(...from);
  context.lineTo(...to);
  context.stroke();
}

function drawStroke(stroke) {
  if (stroke.clear || stroke.image) {
    context.globalCompositeOperation = "source-over";
    context.clearRect(0, 0, canvas.width, canvas.height);
    if (stroke.image) context.drawImage(stroke.image, 0, 0);
    return;
  }
  drawDot(stroke, stroke.points[0]);
  for (let i = 1; i < stroke.points.length; i += 1) {
    drawSegment(stroke, stroke.points[i - 1], stroke.points[i]);
  }
}

function redraw() {
  context.globalCompositeOperation = "source-over";
  context.clearRect(0, 0, canvas.width, canvas.height);
  strokes.forEach(drawStroke);
}

function startStroke(event) {
  current = { tool, size: Number(sizeInput.value), points: [toCanvas(event)] };
  drawDot(current, current.points[0]);
}

function extendStroke(event) {
  const point = toCanvas(event);
  const last = current.points[current.points.length - 1];
  if (Math.hypot(point[0] - last[0], point[1] - last[1]) < 0.5) return;
  drawSegment(current, last, point);
  current.points.push(point);
}

function record(entry) {
  strokes.push(entry);
  undone.length = 0;
}

function endStroke() {
  if (!current) return;
  record(current);
  current = null;
}

function undo() {
  if (!strokes.length) return;
  undone.push(strokes.pop());
  redraw();
}

function redo() {
  if (!undone.length) return;
  strokes.push(undone.pop());
  redraw();
}

function clearMask() {
  if (!strokes.length) return;
  record({ clear: true });   // undoable, like any stroke
  redraw();
}

function chooseTool(name) {
  tool = name;
  for (const button of document.querySelectorAll("[data-tool]")) {
    const active = button.dataset.tool === name;
    button.classList.toggle("active", active);
    button.setAttribute("aria-pressed", String(active));
  }
}

// --- Zoom and pan -------------------------------------------------------------------------

function zoomAt(factor, clientX, clientY) {
  const room = stage.getBoundingClientRect();
  const scale = Math.max(1, Math.min(40, view.scale * factor));
  const x = clientX - room.left;
  const y = clientY - room.top;
  // Keep the point under the pointer where it is.
  view.x = x - ((x - view.x) * scale) / view.scale;
  view.y = y - ((y - view.y) * scale) / view.scale;
  view.scale = scale;
  applyView();
  moveCursor();
}

function zoomCentre(factor) {
  const room = stage.getBoundingClientRect();
  zoomAt(factor, room.left + room.width / 2, room.top + room.height / 2);
}

// --- Cursor -------------------------------------------------------------------------------

let lastPointer = null;
function moveCursor(event) {
  if (event) lastPointer = event;
  if (!lastPointer || lastPointer.pointerType === "touch") {
    cursor.hidden = true;
    return;
  }
  const box = canvas.getBoundingClientRect();
  const room = stage.getBoundingClientRect();
  const diameter = (Number(sizeInput.value) * box.width) / settings.width;
  cursor.hidden = false;
  cursor.style.width = cursor.style.height = `${diameter}px`;
  cursor.style.left = `${lastPointer.clientX - room.left - diameter / 2}px`;
  cursor.style.top = `${lastPointer.clientY - room.top - diameter / 2}px`;
  cursor.classList.toggle("erasing", tool === "eraser");
}

// --- Pointer events: mouse, pen and touch -------------------------------------------------

stage.addEventListener("pointerdown", (event) => {
  if (event.button !== 0 && event.pointerType === "mouse") return;
  stage.setPointerCapture(event.pointerId);
  pointers.set(event.pointerId, event);
  if (pointers.size >= 2) {
    // A second finger: this is a pinch or a pan, not a stroke.
    current = null;
    redraw();
    gesture = gestureState();
    return;
  }
  if (spaceHeld) {
    panning = { x: event.clientX - view.x, y: event.clientY - view.y };
    return;
  }
  startStroke(event);
});

stage.addEventListener("pointermove", (event) => {
  moveCursor(event);
  if (!pointers.has(event.pointerId)) return;
  pointers.set(event.pointerId, event);
  if (gesture && pointers.size >= 2) {
    const now = gestureState();
    view.x += now.midX - gesture.midX;
    view.y += now.midY - gesture.midY;
    applyView();
    zoomAt(now.distance / gesture.distance, now.midX, now.midY);
    gesture = now;
  } else if (panning) {
    view.x = event.clientX - panning.x;
    view.y = event.clientY - panning.y;
    applyView();
  } else if (current) {
    for (const sample of event.getCoalescedEvents?.() || [event]) extendStroke(sample);
  }
});

function finishPointer(event) {
  pointers.delete(event.pointerId);
  if (pointers.size < 2) gesture = null;
  if (!pointers.size) panning = null;
  endStroke();
}
stage.addEventListener("pointerup", finishPointer);
stage.addEventListener("pointercancel", finishPointer);
stage.addEventListener("pointerleave", () => {
  cursor.hidden = true;
  lastPointer = null;   // the circle comes back where the pointer re-enters, not where it left
});

function gestureState() {
  const [a, b] = [...pointers.values()];   // the first two fingers lead
  return {
    midX: (a.clientX + b.clientX) / 2,
    midY: (a.clientY + b.clientY) / 2,
    distance: Math.max(1, Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY)),
  };
}

stage.addEventListener("wheel", (event) => {
  event.preventDefault();
  if (event.deltaY === 0) return;   // a sideways scroll is not a zoom
  zoomAt(event.deltaY < 0 ? 1.2 : 1 / 1.2, event.clientX, event.clientY);
}, { passive: false });

// --- Keys and buttons ---------------------------------------------------------------------

function peek(hidden) {
  canvas.style.visibility = hidden ? "hidden" : "visible";
}

document.addEventListener("keydown", (event) => {
  // Shortcuts work everywhere but in fields where one types.
  if (event.target.closest("input:not([type=range]):not([type=checkbox]), textarea")) return;
  const key = event.key.toLowerCase();
  if ((event.ctrlKey || event.metaKey) && key === "z") {
    event.preventDefault();
    if (event.shiftKey) redo(); else undo();
  } else if ((event.ctrlKey || event.metaKey) && key === "y") {
    event.preventDefault();
    redo();
  } else if (event.key === "[" || event.key === "]") {
    setBrushSize(Number(sizeInput.value) * (event.key === "]" ? 1.25 : 0.8));
    moveCursor();
  } else if (key === "b") chooseTool("brush");
  else if (key === "e") chooseTool("eraser");
  else if (key === "h") peek(true);
  else if (event.code === "Space") {
    event.preventDefault();
    spaceHeld = true;
    stage.classList.add("panning");
  }
});
document.addEventListener("keyup", (event) => {
  if (event.key.toLowerCase() === "h") peek(false);
  if (event.code === "Space") {
    spaceHeld = false;
    stage.classList.remove("panning");
  }
});

for (const button of document.querySelectorAll("[data-tool]")) {
  button.addEventListener("click", () => chooseTool(button.dataset.tool));
}
document.getElementById("undo").addEventListener("click", undo);
document.getElementById("redo").addEventListener("click", redo);
document.getElementById("clear").addEventListener("click", clearMask);
document.getElementById("zoom-in").addEventListener("click", () => zoomCentre(1.5));
document.getElementById("zoom-out").addEventListener("click", () => zoomCentre(1 / 1.5));
document.getElementById("zoom-fit").addEventListener("click", () => fitBoard());
const peekButton = document.getElementById("peek");
peekButton.addEventListener("pointerdown", () => peek(true));
for (const name of ["pointerup", "pointerleave", "pointercancel"]) {
  peekButton.addEventListener(name, () => peek(false));
}
sizeInput.addEventListener("input", () => {
  sizeOutput.textContent = sizeInput.value;
});
sizeInput.addEventListener("change", () => sizeInput.blur());

async function loadMask(url) {
  const image = new Image();
  image.src = url;
  try {
    await image.decode();
  } catch {
    showError("That saved mask could not be loaded. Reload the page and try again.");
    return;
  }
  record({ image });   // undo brings back what was painted before
  redraw();
}

document.getElementById("load-mask")?.addEventListener("change", (event) => {
  const select = event.target;
  if (select.value) loadMask(select.value);
  else clearMask();
  select.blur();   // so the shortcuts work again at once
});

// --- Export and order ---------------------------------------------------------------------

export async function exportMask() {
  // Strokes are anti-aliased on screen; the export is not: a pixel is painted when it is
  // at least half covered, and then it is exactly #7878CD and opaque.
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
  const data = pixels.data;
  let painted = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] >= 128) {
      data[i] = PAINT[0];
      data[i + 1] = PAINT[1];
      data[i + 2] = PAINT[2];
      data[i + 3] = 255;
      painted += 1;
    } else {
      data[i] = data[i + 1] = data[i + 2] = data[i + 3] = 0;
    }
  }
  if (!painted) return null;
  const out = new OffscreenCanvas(canvas.width, canvas.height);
  out.getContext("2d").putImageData(pixels, 0, 0);
  return out.convertToBlob({ type: "image/png" });
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = !message;
}

form.addEventListener("submit", async (event) => {
  const fileInput = form.querySelector("[name=mask]");
  if (fileInput?.files.length) return;   // an uploaded mask file goes with the form as it is
  event.preventDefault();
  showError("");
  const button = document.getElementById("submit-order");
  button.disabled = true;
  try {
    const blob = await exportMask();
    if (!blob) {
      form.querySelector("[name=mask_id]").value = "";   // cleared: no painting goes along
      if (settings.required) {
        showError("Paint the area to change first: the mask is empty.");
        return;
      }
      form.submit();
      return;
    }
    const body = new FormData();
    body.append("mask", blob, "mask.png");
    body.append("service", settings.service);
    const response = await fetch(settings.uploadUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken, Accept: "application/json" },
      body,
    });
    const reply = await response.json().catch(() => ({}));
    if (!response.ok) {
      showError(reply.error || `The mask could not be saved (error ${response.status}).`);
      return;
    }
    form.querySelector("[name=mask_id]").value = reply.id;
    form.submit();
  } catch (error) {
    showError("The mask could not be sent. Check your connection and try again.");
  } finally {
    button.disabled = false;
  }
});

window.addEventListener("resize", () => fitBoard({ keepView: true }));
setBrushSize(Math.max(settings.width, settings.height) / 60);
fitBoard();
if (settings.initialMask) loadMask(settings.initialMask);
window.maskEditor = { exportMask, strokes };   // for tests and the console
