//! The integration tests: one binary, each test on its own app and fresh database.
//! Set QUOTA_LEVY_TEST_POSTGRES_URL to run them all against PostgreSQL.

mod cli;
mod health;
mod helpers;
