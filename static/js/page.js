// Small behaviours of every page, as listeners rather than inline handlers: the
// Content-Security-Policy runs no inline script.

// A share link's read-only field selects the whole link when clicked, ready to copy.
document.addEventListener("click", (event) => {
  const field = event.target.closest("input.share-url");
  if (field) field.select();
});
