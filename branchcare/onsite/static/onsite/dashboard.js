// 现场服务看板: draws the per-manager bar charts from the JSON block rendered by json_script
// (no inline scripts under the CSP). A click on a bar opens the records behind it.
(function () {
  "use strict";
  const source = document.getElementById("dashboard-data");
  if (!source || typeof echarts === "undefined") { return; }
  const data = JSON.parse(source.textContent);
  // planned (light) vs done (strong) vs unplanned; open vs overdue; on-time vs rework.
  const colours = {
    "chart-visits": ["#a9bde6", "#2f62c9", "#e89a2c"],
    "chart-patrols": ["#a9bde6", "#2f62c9", "#e89a2c"],
    "chart-orders": ["#2f62c9", "#c0392b"],
    "chart-quality": ["#2f62c9", "#e89a2c"],
  };
  const charts = [];

  data.charts.forEach(function (spec) {
    const el = document.getElementById(spec.id);
    if (!el) { return; }
    const chart = echarts.init(el, null, { renderer: "canvas" });
    const isRate = spec.unit === "%";
    chart.setOption({
      color: colours[spec.id] || ["#2f62c9", "#e89a2c", "#8a8f98"],
      title: { text: spec.title, left: 8, top: 4, textStyle: { fontSize: 14, fontWeight: 600 } },
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        valueFormatter: function (v) {
          if (v === null || v === undefined) { return "—"; }
          return isRate ? Number(v).toFixed(2) + "%" : v + " " + spec.unit;
        },
      },
      legend: { top: 28, itemWidth: 12, itemHeight: 10, textStyle: { fontSize: 12 } },
      grid: { left: 40, right: 12, top: 64, bottom: 28, containLabel: true },
      xAxis: { type: "category", data: data.managers, axisLabel: { interval: 0, fontSize: 12, hideOverlap: true } },
      yAxis: {
        type: "value",
        minInterval: isRate ? 0 : 1,
        max: isRate ? 100 : null,
        axisLabel: { formatter: isRate ? "{value}%" : "{value}" },
      },
      series: spec.series.map(function (s) {
        return {
          name: s.name,
          type: "bar",
          barMaxWidth: 28,
          data: s.data,
          cursor: "pointer",
          emphasis: { focus: "series" },
        };
      }),
    });
    chart.on("click", function (params) {
      const series = spec.series[params.seriesIndex];
      const url = series && series.urls[params.dataIndex];
      if (url) { window.location.assign(url); }
    });
    el.dataset.ready = "1";
    charts.push(chart);
  });

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
