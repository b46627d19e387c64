//! The Coder provider: its configuration block and the list of types it serves.
//! (Being written: see resources/ and data_sources/.)
