//! The one portable schema: only column types both SQLite and PostgreSQL map the same
//! way (BigInt, Integer, Text, Bool, Date, Timestamp). Money is BigInt fen.

diesel::table! {
    /// Who did what, when, to which entity.
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
        request_id -> Nullable<Text>,
    }
}
