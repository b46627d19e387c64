//! Generated protocol code; see build.rs.
