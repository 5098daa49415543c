// The plotly.js bundle the dashboard and the reports load: plotly.js's core with only the
// trace types critmin draws (see README.md beside this file).
var Plotly = require('plotly.js/lib/core');

Plotly.register([
  require('plotly.js/lib/bar'),
  require('plotly.js/lib/choropleth'),
  require('plotly.js/lib/heatmap'),
  require('plotly.js/lib/sankey'),
  require('plotly.js/lib/scattergeo'),
]);

module.exports = Plotly;
