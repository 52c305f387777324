// casetrack console: small enhancements only; every page works without this file.
"use strict";
(function () {
  // Vietnamese without diacritics: "ba dinh" finds "Ba Đình".
  function fold(s) {
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();
  }
  document.querySelectorAll("input[data-filter-for]").forEach(function (input) {
    var select = document.getElementById(input.getAttribute("data-filter-for"));
    if (!select) return;
    input.addEventListener("input", function () {
      var q = fold(input.value.trim());
      Array.prototype.forEach.call(select.options, function (o) {
        var hay = o.getAttribute("data-folded") || fold(o.textContent);
        o.hidden = q !== "" && hay.indexOf(q) === -1;
      });
    });
  });
})();
