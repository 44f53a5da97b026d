//! The JSON contract: how requests are read from `serde_json::Value` and answers are
//! written. [`fields::Walker`] is the one field walker of the service: the calculation
//! request, the registry's bodies and import rows report their faults through it, with
//! the stable codes of docs/api.md ("Error codes"), in Chinese or English. The pure
//! rules it feeds live in [`crate::domain`], which knows nothing of JSON values.

pub mod faults;
pub mod fields;
mod request;
mod response;
mod roster;
mod surcharge;
mod validate;

pub use faults::Fault;
pub use fields::{key_is_nameable, unknown_key_pointer, FieldError, Fields, Walker};
pub use request::{
    calculate_parsed, calculate_request, calculate_request_json, levy_field_error, parse_request,
    request_of, CalcRequest, DecimalText, EmployeeRequest, EmployerRequest, OverridesRequest,
    ParsedRequest, StaffRequest,
};
pub use response::{
    build_response, provisional_note, CalcResponse, EmployeeOut, ExemptionOut, ParamOut, Parameters,
};
pub use surcharge::{surcharge_request, SegmentOut, SurchargeResponse};

#[cfg(test)]
use fields::escape;

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "request_fuzz.rs"]
mod fuzz;

#[cfg(test)]
mod golden;
