/*
 * Reviewer welfare: exhibit previews are grey and blurred (.rv-veiled) until selected.
 * Loaded as a file (no inline script or handler), so it works under a strict CSP.
 */
(function () {
  "use strict";

  function toggle(button) {
    var image = button.querySelector("img");
    if (!image) return;
    var shown = image.classList.toggle("rv-veiled") === false;
    button.setAttribute("aria-pressed", shown ? "true" : "false");
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-rv-veil]");
    if (button) {
      event.preventDefault();
      toggle(button);
    }
  });
})();
