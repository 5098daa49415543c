"""What-if scenarios on a mineral's trade network: export restrictions with their cascade,
by-product coupling, bilateral agreements and Monte Carlo supply-at-risk. Arrays in, arrays
out; :mod:`critmin.whatif` reads the data and shapes the results."""
