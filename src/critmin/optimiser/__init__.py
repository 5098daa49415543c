"""Diversified sourcing: the supplier mix that minimises governance risk, concentration and
cost under capacity limits, in three steps: :func:`model.build_model` (inputs to a convex
quadratic programme over supply shares), :func:`solve.solve` (HiGHS; with a minimum lot
or a most number of suppliers a mixed-integer programme, :mod:`mip`) and
:func:`result.read_result` (shares back to tonnes and metrics). Arrays in, arrays out;
:mod:`critmin.sourcing` reads the data and shapes the results."""
