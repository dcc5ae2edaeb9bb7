// Progressive enhancement only: every page works without this file.
import { initAll } from "../govuk/govuk-frontend.min.js";

initAll();

// The time left as people say it: "12:05" under an hour, "3 hours 20 minutes", "2 days 4 hours".
export function timeLeft(seconds) {
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  }
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return days > 0 ? `${plural(days, "day")} ${plural(hours, "hour")}` : `${plural(hours, "hour")} ${plural(minutes, "minute")}`;
}

// Count down a hold's remaining time where the page shows one.
for (const timer of document.querySelectorAll("[data-expires-at]")) {
  const expiresAt = Date.parse(timer.dataset.expiresAt);
  const label = timer.querySelector("[data-timer]");
  const output = label?.querySelector("[data-countdown]");
  if (!output || Number.isNaN(expiresAt)) continue;
  const tick = () => {
    const left = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
    output.textContent = timeLeft(left);
    if (left > 0) setTimeout(tick, 1000);
  };
  tick();
  label.hidden = false;
}
