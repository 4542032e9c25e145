// Progressive touches for the console; every page works without this file.
// Filters start open on wide screens; on phones they fold away so the results come first.
const wide = window.matchMedia('(min-width: 721px)');
for (const details of document.querySelectorAll('details[data-open-wide]')) {
  if (wide.matches) details.open = true;
}

// Destructive buttons ask first (revoking a phone cannot be undone from here).
for (const form of document.querySelectorAll('form[data-confirm]')) {
  form.addEventListener('submit', (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
}
