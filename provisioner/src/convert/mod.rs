//! Plan/state JSON + DOT graph → Coder resources (in progress).
