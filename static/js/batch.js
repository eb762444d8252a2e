// The listing order form: keep the total in view as photos are ticked, and select all or none.
const form = document.querySelector(".batch-form");

function updateTotal() {
  const perPhoto = Number(form.dataset.creditsPerPhoto);
  const balance = Number(form.dataset.balance);
  const count = form.querySelectorAll("input[name=photos]:checked").length;
  const total = count * perPhoto;
  form.querySelector("[data-testid=batch-total]").textContent =
    `${count} photo${count === 1 ? "" : "s"} · ${total} credit${total === 1 ? "" : "s"}`;
  const summary = form.querySelector("[data-testid=batch-summary]");
  summary.textContent = total > balance
    ? `you have ${balance}: untick ${Math.ceil((total - balance) / perPhoto)} or ask for a top-up`
    : `you have ${balance}, ${balance - total} left after`;
  summary.classList.toggle("over-budget", total > balance);
}

function selectAll(checked) {
  for (const box of form.querySelectorAll("input[name=photos]")) box.checked = checked;
  updateTotal();
}

if (form) {
  form.addEventListener("change", updateTotal);
  for (const button of form.querySelectorAll("[data-select]")) {
    button.addEventListener("click", () => selectAll(button.dataset.select === "all"));
  }
  updateTotal();
}
