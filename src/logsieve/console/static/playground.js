// logsieve console, pattern playground: the "Copy" buttons of the aws CLI / boto3 / Terraform
// texts (htmx posts the form and swaps the results as the pattern or the lines change).
(() => {
  "use strict";
  document.addEventListener("click", async (ev) => {
    const button = ev.target instanceof Element ? ev.target.closest("button[data-copy]") : null;
    if (!button) return;
    const source = document.getElementById(button.dataset.copy);
    if (!source) return;
    try {
      await navigator.clipboard.writeText(source.textContent);
      button.textContent = "Copied";
    } catch (e) {
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      button.textContent = "Selected: press Ctrl+C";
    }
  });
})();
