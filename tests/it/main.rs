//! The integration tests: one binary, each test on its own app and fresh database.
//! Set QUOTA_LEVY_TEST_POSTGRES_URL to run them all against PostgreSQL.

mod accounts;
mod assessments;
mod batch;
mod bounds;
mod browser;
mod cli;
mod concurrency;
mod declarations;
mod disputes;
mod employers;
mod fuzz;
mod health;
mod helpers;
mod imports;
mod levy;
mod metrics;
mod notices;
mod pages;
mod payments;
mod privacy;
mod reminders;
mod roll;
mod violations;
mod year;
