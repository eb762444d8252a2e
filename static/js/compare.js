// Before/after comparison: the range input over each picture sets how much of "before"
// shows. Listening on the document also covers galleries that htmx swaps in later.
document.addEventListener("input", (event) => {
  const slider = event.target.closest(".compare-range");
  if (slider) slider.parentElement.style.setProperty("--position", `${slider.value}%`);
});

// A share link's address is selected whole on a click, ready to copy.
document.addEventListener("click", (event) => {
  const field = event.target.closest(".share-url");
  if (field) field.select();
});
