// The language switcher submits itself when a language is picked (a button shows without JS).
(function () {
  "use strict";
  var select = document.getElementById("language-select");
  if (!select) { return; }
  select.addEventListener("change", function () { select.form.submit(); });
})();
