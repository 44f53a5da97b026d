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
mod ledger;
mod levy;
mod notices;
mod pages;
mod payments;
mod positions;
mod privacy;
mod reminders;
mod rewards;
mod roll;
mod violations;
mod year;
