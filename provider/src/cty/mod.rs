//! Terraform's value model (go-cty): placeholder until the layer lands.
