//! HCL variable parsing (in progress).
