//! go-plugin transport and the tfplugin5/6 adapters (being written).
