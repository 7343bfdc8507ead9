// The staff mentor page's search: as staff type in a candidate's "Mentor's name" field, the
// mentors who fit (best first) are fetched from the page's JSON endpoint into that candidate's
// propose form. Without this script the field's Find mentors button asks the page itself.
// Loaded from our static files (no inline script: the pages run under a strict CSP).
(function () {
  "use strict";

  var section = document.getElementById("without-mentor");
  if (!section || !window.fetch) {
    return;
  }
  var texts = section.dataset;

  function setUp(input) {
    var form = document.getElementById(input.dataset.proposeForm);
    var select = form.querySelector("select[name=mentor]");
    var typed = form.querySelector("input[name=q]");
    var status = input.form.parentNode.querySelector(".mentor-search-status");
    var timer = null;
    var pending = null;

    function show(results) {
      var options = results.map(function (mentor) {
        return new Option(mentor.label, mentor.id);
      });
      select.replaceChildren.apply(select, options);
      form.hidden = options.length === 0;
      status.textContent = options.length ? texts.foundText : texts.noneText;
    }

    function search() {
      if (pending) {
        pending.abort();
      }
      pending = new AbortController();
      typed.value = input.value.trim();
      var url = input.dataset.mentorSearch + "&q=" + encodeURIComponent(typed.value);
      fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"},
                  signal: pending.signal})
        .then(function (response) {
          if (!response.ok) {
            throw new Error(String(response.status));
          }
          return response.json();
        })
        .then(function (data) { show(data.results); })
        .catch(function (error) {
          if (error.name !== "AbortError") {
            status.textContent = texts.errorText;
          }
        });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, 250);
    });
    input.form.addEventListener("submit", function (event) {
      event.preventDefault();
      search();
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("input[data-mentor-search]"), setUp);
})();
