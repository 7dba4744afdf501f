// logsieve console, metrics: the chosen statistic as a uPlot line, with each alarm's
// threshold on this metric drawn as a dashed horizontal line (data from the page itself).
(() => {
  "use strict";
  const COLOURS = ["#b42318", "#9a6700", "#6d28d9", "#0e7490", "#be185d"];
  document.addEventListener("DOMContentLoaded", () => {
    const box = document.getElementById("chart");
    if (!box || typeof uPlot === "undefined") return;
    const chart = JSON.parse(box.dataset.chart);
    const xs = chart.points.map((p) => p[0]);
    const data = [xs, chart.points.map((p) => p[1])];
    const series = [{}, { label: chart.label, stroke: "#0b63c5", width: 2, points: { show: true } }];
    chart.thresholds.forEach((t, i) => {
      data.push(xs.map(() => t.value));
      series.push({ label: `${t.alarm} threshold`, stroke: COLOURS[i % COLOURS.length], dash: [6, 4], width: 1.5 });
    });
    const width = () => Math.max(280, box.clientWidth);
    const plot = new uPlot({ width: width(), height: 300, series, scales: { x: { time: true } } }, data, box);
    box.dataset.drawn = String(chart.points.length);
    window.addEventListener("resize", () => plot.setSize({ width: width(), height: 300 }));
  });
})();
