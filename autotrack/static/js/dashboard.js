// Draws the console dashboard's charts from the figures the page already shows in its tables.
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof Chart === "undefined") { return; }  // the tables still carry every number
  var data = JSON.parse(source.textContent);
  var palette = ["#dc3545", "#fd7e14", "#ffc107", "#198754", "#0d6efd", "#6f42c1", "#6c757d"];
  var noLegend = { plugins: { legend: { display: false } }, maintainAspectRatio: false,
                   scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } };

  function bar(id, labels, values, colors) {
    var canvas = document.getElementById(id);
    if (!canvas) { return; }
    new Chart(canvas, { type: "bar", options: noLegend,
      data: { labels: labels, datasets: [{ data: values, backgroundColor: colors || "#0d6efd" }] } });
  }

  bar("chart-priority", data.priority.map(function (r) { return r[0]; }),
      data.priority.map(function (r) { return r[1]; }), palette);
  bar("chart-aging", data.aging.map(function (r) { return r[0]; }),
      data.aging.map(function (r) { return r[1]; }), "#6c757d");

  var status = document.getElementById("chart-status");
  if (status) {
    new Chart(status, { type: "doughnut", options: { maintainAspectRatio: false },
      data: { labels: data.status.map(function (r) { return r[0]; }),
              datasets: [{ data: data.status.map(function (r) { return r[2]; }),
                           backgroundColor: data.status.map(function (r) { return r[1]; }) }] } });
  }

  var departments = document.getElementById("chart-departments");
  if (departments) {
    new Chart(departments, { type: "bar",
      options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
      data: { labels: data.departments.map(function (r) { return r[0]; }),
              datasets: [
                { label: "Breaches (30 days)", data: data.departments.map(function (r) { return r[2]; }),
                  backgroundColor: "#dc3545" },
                { label: "Escalations (30 days)", data: data.departments.map(function (r) { return r[4]; }),
                  backgroundColor: "#fd7e14" }] } });
  }
})();
