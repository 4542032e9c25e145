// The evidence pack's "Print or save as PDF" button (a file, not inline script: strict CSP).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
