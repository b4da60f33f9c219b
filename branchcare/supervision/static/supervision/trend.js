// 考核评分趋势: one line per person plus the branch, from the JSON block rendered by json_script.
// A click on a point opens that period's scorecard.
(function () {
  "use strict";
  const source = document.getElementById("trend-data");
  const el = document.getElementById("chart-trend");
  if (!source || !el || typeof echarts === "undefined") { return; }
  const data = JSON.parse(source.textContent);
  const chart = echarts.init(el, null, { renderer: "canvas" });
  // ECharts marks a missing point with "-" (a period without data has no score).
  const gaps = function (values) { return values.map(function (v) { return v === null ? "-" : v; }); };
  const series = data.series.map(function (s) {
    return { name: s.name, type: "line", data: gaps(s.data), showSymbol: true, symbolSize: 8 };
  });
  series.push({ name: data.labels.branch, type: "line", data: gaps(data.branch), showSymbol: true,
    lineStyle: { width: 3, type: "dashed" }, symbolSize: 9 });
  chart.setOption({
    title: { text: data.labels.title, left: 8, top: 4, textStyle: { fontSize: 14, fontWeight: 600 } },
    tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null || v === undefined ? "—" : Number(v).toFixed(2); } },
    legend: { top: 28, type: "scroll" },
    grid: { left: 40, right: 16, top: 64, bottom: 28, containLabel: true },
    xAxis: { type: "category", data: data.periods },
    yAxis: { type: "value", min: 0, max: 100 },
    series: series,
  });
  chart.on("click", function (params) {
    const first = data.firsts[params.dataIndex];
    if (!first) { return; }
    const url = new URL(window.location.href);
    url.searchParams.set("date", first);
    window.location.assign(url.toString());
  });
  el.dataset.ready = "1";
  window.addEventListener("resize", function () { chart.resize(); });
})();
