//! Loads and validates `config/policies/*.toml` into domain policy types.
