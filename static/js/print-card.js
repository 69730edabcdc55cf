// Phiếu giữ khóa: the "In phiếu" button, shown only where script runs; without script the
// page says how to print from the browser's menu, and works the same.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
