// Progressive enhancement only: every page works without this file.
import { initAll } from "../govuk/govuk-frontend.min.js";

initAll();

// Count down a hold's remaining time where the page shows one.
for (const timer of document.querySelectorAll("[data-expires-at]")) {
  const expiresAt = Date.parse(timer.dataset.expiresAt);
  const output = timer.querySelector("[data-countdown]");
  if (!output || Number.isNaN(expiresAt)) continue;
  const tick = () => {
    const left = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
    const minutes = Math.floor(left / 60);
    const seconds = String(left % 60).padStart(2, "0");
    output.textContent = `${minutes}:${seconds}`;
    if (left > 0) setTimeout(tick, 1000);
  };
  tick();
}
