// A CSV import running in the background: ask every 1.5 seconds how far it got, show the counts,
// and reload the page once it has finished (the page then shows the result).
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  function show(name, value) {
    var cell = document.getElementById("import-" + name);
    if (cell) { cell.textContent = String(value); }
  }
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { window.setTimeout(poll, 3000); return; }
        if (data.finished) { window.location.reload(); return; }
        show("rows-checked", data.rows_checked);
        show("rows-imported", data.rows_imported);
        show("status", data.label);
        var bar = document.getElementById("import-bar");
        if (bar && data.rows_total) {
          bar.value = data.status === "importing" ? data.rows_imported : data.rows_checked;
        }
        window.setTimeout(poll, 1500);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1500);
})();
