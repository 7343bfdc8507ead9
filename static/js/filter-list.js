// A long list of checkboxes with a text box above it: typing hides the choices that do not
// match (a ticked one stays, so the choice is always seen). Without this script the filter box
// stays hidden and the plain list of checkboxes works alone (templates/widgets/).
(function () {
  "use strict";

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();
  }

  function setUp(list) {
    var input = list.querySelector(".filter-list-input");
    var empty = list.querySelector(".filter-list-empty");
    var choices = Array.prototype.map.call(list.querySelectorAll(".filter-list-box label"),
      function (label) {
        var box = label.querySelector("input");
        return {row: label.parentElement, box: box, text: fold(label.textContent + " " + box.value)};
      });
    input.hidden = false;
    input.addEventListener("input", function () {
      var query = fold(input.value);
      var shown = 0;
      choices.forEach(function (choice) {
        var match = !query || choice.box.checked || choice.text.indexOf(query) !== -1;
        choice.row.hidden = !match;
        if (match) { shown += 1; }
      });
      empty.hidden = shown > 0;
    });
    // Enter in the filter box would send the whole form.
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-filter-list]"), setUp);
  });
}());
