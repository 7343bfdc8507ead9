// A requested match run: ask every 3 seconds whether it has finished, then reload the page.
(function () {
  "use strict";
  var marker = document.getElementById("running");
  if (!marker) { return; }
  var url = marker.getAttribute("data-status-url");
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && !data.running) { window.location.reload(); }
        else { window.setTimeout(poll, 3000); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 3000);
})();
