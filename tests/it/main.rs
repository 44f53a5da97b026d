//! The integration tests: one binary, each test on its own app and fresh database.
//! Set QUOTA_LEVY_TEST_POSTGRES_URL to run them all against PostgreSQL.

mod accounts;
mod assessments;
mod batch;
mod bounds;
mod browser;
mod calendar;
mod cli;
mod concurrency;
mod declarations;
mod dispatch;
mod disputes;
mod employers;
mod federation_pages;
mod fuzz;
mod golden_rules;
mod hardship;
mod health;
mod helpers;
mod imports;
mod ledger;
mod levy;
mod my;
mod notices;
mod officer_pages;
mod pages;
mod payments;
mod positions;
mod privacy;
mod receipts;
mod reminders;
mod rewards;
mod roll;
mod tax_pages;
mod violations;
mod year;
