// Progressive enhancement only: every page works without this script. It starts the NHS
// design system's components (the header's "More" menu and the like) and the copy buttons.
import { initAll } from "/static/nhsuk-frontend/10.6.1/nhsuk-frontend.min.js";

document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
initAll();

// <button data-copy="ID" hidden>: copies the text of element ID, and says so in ID-copied.
for (const button of document.querySelectorAll("button[data-copy]")) {
  const source = document.getElementById(button.dataset.copy);
  const status = document.getElementById(button.dataset.copy + "-copied");
  if (!source || !navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener("click", () => {
    navigator.clipboard.writeText(source.textContent.trim()).then(
      () => { if (status) status.textContent = "Link copied"; },
      () => { if (status) status.textContent = "Copy the link by selecting it"; }
    );
  });
}
