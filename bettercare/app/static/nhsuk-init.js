// Starts the NHS design system's components (static/nhsuk/, vendored by `make assets`).
// The upstream page template does the first line in an inline <script>; the
// Content-Security-Policy here allows no inline script, so it lives in this file.
import { initAll } from "./nhsuk/nhsuk-frontend.min.js";

document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
// initAll starts every component with a data-module; the error summary
// (data-module="nhsuk-error-summary") moves focus to itself, so after a failed save the
// keyboard and screen reader user lands on the list of problems, each linked to its field.
initAll();
