//! The registry reads its bodies with the one field walker of [`crate::wire::fields`].

pub use crate::wire::fields::{check_email, Fields};
