// On narrow screens charts scroll sideways; start them at the latest periods (the right end).
document.querySelectorAll("figure").forEach((figure) => {
  if (figure.scrollWidth > figure.clientWidth) figure.scrollLeft = figure.scrollWidth;
});
