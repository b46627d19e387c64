//! Data source types, one file each.
