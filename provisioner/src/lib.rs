//! Coder provisioner library.
