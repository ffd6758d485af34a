// Draws the SLA report's weekly trend from the figures the page already shows in its table.
(function () {
  "use strict";
  var source = document.getElementById("trend-data");
  var canvas = document.getElementById("chart-trend");
  if (!source || !canvas || typeof Chart === "undefined") { return; }  // the table carries every number
  var data = JSON.parse(source.textContent);
  var colours = { first_response: "#0d6efd", resolution: "#198754", next_response: "#fd7e14" };
  new Chart(canvas, {
    type: "line",
    options: { maintainAspectRatio: false, spanGaps: true,
               scales: { y: { min: 0, max: 100, title: { display: true, text: "% met" } } } },
    data: {
      labels: data.weeks,
      datasets: data.series.map(function (clock) {
        var label = data.labels[clock];
        return { label: label.charAt(0).toUpperCase() + label.slice(1), data: data.values[clock],
                 borderColor: colours[clock], backgroundColor: colours[clock], tension: 0.2 };
      })
    }
  });
}());
