// Keyboard shortcuts of the web app (documented at the foot of each page).
// Queue: j / k select the next / previous order, Enter or o opens it, x ticks it for a bulk decision.
// Order: j / k open the next / previous order of the queue, a approves, d declines (with the note typed).
// Rules and lists: j / k select the next / previous row, Enter or o opens it.
// Everywhere: / goes to the filter (or the first field), Escape leaves a field.
(function () {
  "use strict";

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr[data-href]")); }

  function select(index) {
    var all = rows();
    if (!all.length) { return; }
    index = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (row, i) { row.classList.toggle("selected", i === index); });
    all[index].scrollIntoView({block: "nearest"});
  }

  function selected() {
    var all = rows();
    for (var i = 0; i < all.length; i++) { if (all[i].classList.contains("selected")) { return i; } }
    return -1;
  }

  function click(selector) {
    var element = document.querySelector(selector);
    if (element) { element.click(); return true; }
    return false;
  }

  function follow(selector) {
    var link = document.querySelector(selector);
    if (link && link.getAttribute("href")) { window.location.assign(link.getAttribute("href")); }
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (typing(event.target)) {
      if (event.key === "Escape") { event.target.blur(); }
      return;
    }
    var page = document.body.getAttribute("data-page");
    var key = event.key;
    if (key === "/") {
      var field = document.querySelector("[data-filter] input, main input:not([type=hidden]), main textarea");
      if (field) { event.preventDefault(); field.focus(); }
      return;
    }
    if (page === "queue" || page === "rules" || page === "lists") {
      var at = selected();
      if (key === "j") { select(at + 1); }
      else if (key === "k") { select(at < 0 ? 0 : at - 1); }
      else if ((key === "Enter" || key === "o") && at >= 0) { window.location.assign(rows()[at].getAttribute("data-href")); }
      else if (key === "x" && at >= 0 && page === "queue") {
        var box = rows()[at].querySelector("input[type=checkbox]");
        if (box) { box.checked = !box.checked; }
      } else { return; }
      event.preventDefault();
    } else if (page === "order") {
      if (key === "j") { follow("a[rel=next]"); }
      else if (key === "k") { follow("a[rel=prev]"); }
      else if (key === "a") { click("button[name=verdict][value=approve]"); }
      else if (key === "d") { click("button[name=verdict][value=decline]"); }
      else { return; }
      event.preventDefault();
    }
  });

  // A file larger than the service accepts (RISK_MAX_BODY_BYTES) is refused here, with a message, before sending it.
  document.addEventListener("submit", function (event) {
    var inputs = event.target.querySelectorAll ? event.target.querySelectorAll("input[type=file][data-max-bytes]") : [];
    for (var i = 0; i < inputs.length; i++) {
      var limit = parseInt(inputs[i].getAttribute("data-max-bytes"), 10);
      var file = inputs[i].files && inputs[i].files[0];
      if (file && limit && file.size > limit) {
        event.preventDefault();
        inputs[i].setCustomValidity(file.name + " has " + file.size + " bytes; the service accepts " + limit +
                                    " at most: split it");
        inputs[i].reportValidity();
        inputs[i].addEventListener("change", function () { this.setCustomValidity(""); }, {once: true});
        return;
      }
    }
  });

  // Queue: clicking a row (not its checkbox or a link) opens the order; the select-all box ticks every row.
  document.addEventListener("click", function (event) {
    var all = event.target.closest && event.target.closest("input[data-select-all]");
    if (all) {
      rows().forEach(function (row) {
        var box = row.querySelector("input[type=checkbox]");
        if (box) { box.checked = all.checked; }
      });
      return;
    }
    var row = event.target.closest && event.target.closest("tr[data-href]");
    if (row && !event.target.closest("input, a, button, label")) { window.location.assign(row.getAttribute("data-href")); }
  });
})();
