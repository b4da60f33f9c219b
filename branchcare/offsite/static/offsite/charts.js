// 非现场服务图表: the return-visit coverage report and a campaign's progress per agent, drawn with the
// vendored ECharts from the JSON blocks rendered by json_script (no inline scripts under the CSP).
(function () {
  "use strict";
  if (typeof echarts === "undefined") { return; }

  function read(id) {
    const el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function bars(elId, categories, series, colours, links) {
    const el = document.getElementById(elId);
    if (!el) { return; }
    const chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      color: colours,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 4, itemWidth: 12, itemHeight: 10, textStyle: { fontSize: 12 } },
      grid: { left: 40, right: 12, top: 40, bottom: 28, containLabel: true },
      xAxis: { type: "category", data: categories, axisLabel: { interval: 0, fontSize: 12, hideOverlap: true } },
      yAxis: { type: "value", minInterval: 1 },
      series: series.map(function (s) {
        return { name: s.name, type: "bar", data: s.data, barMaxWidth: 28, stack: s.stack };
      }),
    });
    if (links) {
      chart.on("click", function (params) {
        const url = links[params.dataIndex];
        if (url) { window.location.href = "/offsite/revisits/" + url; }
      });
    }
    window.addEventListener("resize", function () { chart.resize(); });
  }

  const coverage = read("coverage-data");
  if (coverage) {
    bars("coverage-chart", coverage.rules, coverage.series, ["#a9bde6", "#2f62c9", "#8a8f98", "#c0392b"], coverage.links);
  }
  const campaign = read("campaign-data");
  if (campaign) {
    const series = campaign.series.map(function (s) { return { name: s.name, data: s.data, stack: "all" }; });
    bars("campaign-chart", campaign.agents, series, ["#a9bde6", "#2f62c9", "#e89a2c", "#8a8f98", "#6c3483"], null);
  }
})();
