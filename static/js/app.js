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

const HOLD_WARNING_SECONDS = 120;

// Count down a hold's remaining time where the page shows one.
for (const timer of document.querySelectorAll("[data-expires-at]")) {
  const expiresAt = Date.parse(timer.dataset.expiresAt);
  const label = timer.querySelector("[data-timer]");
  const output = label?.querySelector("[data-countdown]");
  if (!output || Number.isNaN(expiresAt)) continue;
  // The countdown itself is hidden from screen readers (a number read every second helps nobody);
  // they hear one warning, HOLD_WARNING_SECONDS before the end, with the way to get more time.
  const warning = timer.querySelector("[data-hold-warning]");
  const moreTime = timer.querySelector("[name=more_time]");
  let warned = false;
  const tick = () => {
    const left = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
    output.textContent = timeLeft(left);
    if (warning && !warned && left > 0 && left <= HOLD_WARNING_SECONDS) {
      warned = true;
      const minutes = Math.ceil(left / 60);
      warning.textContent = `Your places will be released in ${minutes} minute${minutes === 1 ? "" : "s"}.` +
        (moreTime ? " Use Give me more time to keep them longer." : "");
    }
    if (left > 0) setTimeout(tick, 1000);
  };
  tick();
  label.hidden = false;
}
