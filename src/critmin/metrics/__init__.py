"""Pure metric functions: frames in, frames out (the cube, concentration, GeoPolRisk, group
statistics on integer ids, a country group as one importer). Nothing here reads the store."""
