// Photo upload: drag-and-drop or picker, one request per file so each gets its own progress
// bar and its own verdict; a bad file never stops the others. Without JavaScript the form
// posts every file at once and the page shows the same messages.

const uploader = document.getElementById("uploader");
const dropzone = document.getElementById("dropzone");
const input = document.getElementById("photo-input");
const list = document.getElementById("upload-list");
const csrfToken = dropzone.querySelector("[name=csrfmiddlewaretoken]").value;
const maxBytes = Number(uploader.dataset.maxBytes);
const PARALLEL_UPLOADS = 2;

const queue = [];
let running = 0;

function formatSize(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

function addRow(file) {
  const row = document.createElement("li");
  row.className = "upload-row";
  row.innerHTML = `
    <span class="upload-name"></span>
    <progress max="100" value="0"></progress>
    <span class="upload-status">Waiting…</span>`;
  row.querySelector(".upload-name").textContent = `${file.name} (${formatSize(file.size)})`;
  list.append(row);
  return row;
}

function setStatus(row, state, text, percent) {
  row.dataset.state = state;
  row.querySelector(".upload-status").textContent = text;
  if (percent !== undefined) row.querySelector("progress").value = percent;
}

function chooseFiles(files) {
  for (const file of files) {
    const row = addRow(file);
    // The server checks these too; checking here saves sending 80 MB to hear "too large".
    if (file.size === 0) {
      setStatus(row, "error", `${file.name} is empty (0 bytes). Export the photo again and retry.`);
    } else if (file.size > maxBytes) {
      setStatus(row, "error",
        `${file.name} is ${formatSize(file.size)}; the limit is ${formatSize(maxBytes)}.`);
    } else {
      queue.push({ file, row });
    }
  }
  startNextUploads();
}

function startNextUploads() {
  while (running < PARALLEL_UPLOADS && queue.length) {
    const { file, row } = queue.shift();
    running += 1;
    uploadFile(file, row).finally(() => {
      running -= 1;
      startNextUploads();
    });
  }
}

function uploadFile(file, row) {
  return new Promise((resolve) => {
    const body = new FormData();
    body.append("photos", file);
    const request = new XMLHttpRequest();
    request.open("POST", uploader.dataset.uploadUrl);
    request.setRequestHeader("X-CSRFToken", csrfToken);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (event) => {
      if (!event.lengthComputable) return;
      const percent = Math.round((event.loaded / event.total) * 100);
      setStatus(row, "uploading", percent < 100 ? `Uploading ${percent}%` : "Checking photo…", percent);
    });
    request.addEventListener("load", () => {
      let reply = {};
      try { reply = JSON.parse(request.responseText); } catch { /* not JSON: a proxy error page */ }
      if (request.status === 201) {
        setStatus(row, "done", "Uploaded", 100);
        refreshGrid();
      } else if (request.status === 403) {
        setStatus(row, "error", "Your session has expired. Reload the page and log in again.");
      } else {
        setStatus(row, "error", reply.error || `Upload failed (error ${request.status}). Try again.`);
      }
      resolve();
    });
    request.addEventListener("error", () => {
      setStatus(row, "error", "The connection was lost during the upload. Try again.");
      resolve();
    });
    setStatus(row, "uploading", "Uploading 0%", 0);
    request.send(body);
  });
}

let refreshPending = false;
function refreshGrid() {
  // Several uploads may finish together; one refresh of the grid covers them all.
  if (refreshPending) return;
  refreshPending = true;
  setTimeout(() => {
    refreshPending = false;
    htmx.ajax("GET", uploader.dataset.gridUrl, { target: "#photo-grid", swap: "outerHTML" });
  }, 150);
}

input.addEventListener("change", () => {
  chooseFiles(input.files);
  input.value = "";
});

for (const name of ["dragenter", "dragover"]) {
  dropzone.addEventListener(name, (event) => {
    event.preventDefault();
    dropzone.classList.add("dragging");
  });
}
for (const name of ["dragleave", "drop"]) {
  dropzone.addEventListener(name, () => dropzone.classList.remove("dragging"));
}
dropzone.addEventListener("drop", (event) => {
  event.preventDefault();
  chooseFiles(event.dataTransfer.files);
});
