// guest-reset console: the only script (the CSP allows no other). Pages
// work without it; it adds two things: a picked CSV file fills the job
// form's text area, and a job's page follows its progress live.
"use strict";

document.querySelectorAll("input[type=file][data-fills]").forEach(function (input) {
  input.addEventListener("change", function () {
    var target = document.getElementById(input.dataset.fills);
    var file = input.files && input.files[0];
    if (!target || !file) { return; }
    file.text().then(function (text) { target.value = text; });
  });
});

document.querySelectorAll("[data-events]").forEach(function (section) {
  var progress = section.querySelector("progress");
  var status = section.querySelector("[role=status]");
  var counts = section.querySelector("#job-counts");
  var source = new EventSource(section.dataset.events);
  function show(event) {
    var job = JSON.parse(event.data);
    var total = job.total || 0;
    var done = job.done || 0;
    var percent = total === 0 ? 100 : Math.floor(done * 100 / total);
    progress.max = total;
    progress.value = done;
    progress.textContent = done + " of " + total;
    status.textContent = job.state + ": " + done + " of " + total + " done (" + percent + "%)";
    if (counts && job.counts) {
      counts.replaceChildren();
      Object.keys(job.counts).forEach(function (name) {
        var item = document.createElement("li");
        item.textContent = name + ": " + job.counts[name];
        counts.appendChild(item);
      });
    }
  }
  source.addEventListener("progress", show);
  source.addEventListener("done", function (event) { show(event); source.close(); });
});
