"""One reader per data provider (BACI, World Mining Data, USGS, WGI, company purchases),
returning frames in the canonical schema; the source registry that the build and the
importers iterate; the one validation step. Nothing here writes to the store."""
