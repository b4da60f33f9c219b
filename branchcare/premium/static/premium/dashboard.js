// 高端服务看板: draws the charts from the JSON block rendered by json_script (no inline scripts under the CSP).
(function () {
  "use strict";
  const source = document.getElementById("premium-data");
  if (!source || typeof echarts === "undefined") { return; }
  const data = JSON.parse(source.textContent);
  const charts = [];
  const title = function (text) { return { text: text, left: 8, top: 4, textStyle: { fontSize: 14, fontWeight: 600 } }; };
  const grid = { left: 40, right: 16, top: 64, bottom: 28, containLabel: true };
  const legend = { top: 28, itemWidth: 12, itemHeight: 10, textStyle: { fontSize: 12 } };
  const brokersAxis = { type: "category", data: data.brokers, axisLabel: { interval: 0, fontSize: 12, hideOverlap: true } };
  const fmt = function (unit) {
    return function (v) { return v === null || v === undefined ? "—" : v + " " + unit; };
  };

  function draw(id, option) {
    const el = document.getElementById(id);
    if (!el) { return; }
    const chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option);
    el.dataset.ready = "1";
    charts.push(chart);
  }

  draw("chart-volume", {
    color: ["#2f62c9", "#e89a2c", "#c0392b"],
    title: title(el("chart-volume").dataset.title),
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: fmt("件") },
    legend: legend, grid: grid, xAxis: brokersAxis, yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: label("chart-volume", 0), type: "bar", barMaxWidth: 28, data: data.volume.received },
      { name: label("chart-volume", 1), type: "bar", barMaxWidth: 28, data: data.volume.open },
      { name: label("chart-volume", 2), type: "bar", barMaxWidth: 28, data: data.volume.escalated },
    ],
  });

  function vsTarget(id, values, target, unit) {
    draw(id, {
      color: ["#2f62c9"],
      title: title(el(id).dataset.title),
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: fmt(unit) },
      legend: legend, grid: grid, xAxis: brokersAxis,
      // keep the target line in view even when every broker is far below it
      yAxis: { type: "value", max: function (v) { return Math.ceil(Math.max(v.max, target) * 1.15); } },
      series: [{
        name: label(id, 0), type: "bar", barMaxWidth: 28, data: values,
        markLine: {
          symbol: "none", lineStyle: { color: "#c0392b", type: "dashed" },
          label: { formatter: label(id, 1) + " " + target + " " + unit, position: "insideEndTop" },
          data: [{ yAxis: target }],
        },
      }],
    });
  }
  vsTarget("chart-first", data.first.avg, data.first.target, el("chart-first").dataset.unit);
  vsTarget("chart-resolution", data.resolution.avg, data.resolution.target, el("chart-resolution").dataset.unit);

  draw("chart-retention", {
    color: ["#2f62c9", "#e89a2c", "#a9bde6"],
    title: title(el("chart-retention").dataset.title),
    tooltip: { trigger: "axis" },
    legend: legend, grid: grid,
    xAxis: { type: "category", data: data.retention.months },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: label("chart-retention", 0), type: "line", data: data.retention.active },
      { name: label("chart-retention", 2), type: "bar", barMaxWidth: 18, data: data.retention.exited },
      { name: label("chart-retention", 1), type: "bar", barMaxWidth: 18, data: data.retention.joined },
    ],
  });

  draw("chart-satisfaction", {
    color: ["#e89a2c"],
    title: title(el("chart-satisfaction").dataset.title),
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: fmt("/ 5") },
    legend: legend, grid: grid, xAxis: brokersAxis, yAxis: { type: "value", min: 0, max: 5 },
    series: [{ name: label("chart-satisfaction", 0), type: "bar", barMaxWidth: 28, data: data.satisfaction.avg }],
  });

  function el(id) { return document.getElementById(id) || { dataset: {} }; }
  function label(id, i) { return (el(id).dataset.labels || "").split("|")[i] || ""; }

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
