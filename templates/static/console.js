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
  // The log form: names already in the registry, as one is typed, with their record.
  document.querySelectorAll("input[data-suggest]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    var record = document.getElementById("person-record");
    var found = [];
    var timer = null;
    function show() {
      var same = found.filter(function (s) { return s.name === input.value.trim(); });
      if (record) record.textContent = same.length ? same[0].unit + ": " + same[0].record : "";
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      show();
      timer = setTimeout(function () {
        var q = input.value.trim();
        if (fold(q).length < 2) return;
        fetch(input.getAttribute("data-suggest") + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { items: [] }; })
          .then(function (body) {
            found = body.items || [];
            list.textContent = "";
            found.forEach(function (s) {
              var o = document.createElement("option");
              o.value = s.name;
              o.label = [s.unit, s.position, s.record].filter(Boolean).join(" · ");
              list.appendChild(o);
            });
            show();
          })
          .catch(function () {});
      }, 250);
    });
  });
})();
