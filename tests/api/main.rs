//! Black-box tests of salesbot: the pipeline against real SQLite and PostgreSQL databases, the
//! HTTP surface on port 0, and the binary itself. PostgreSQL tests run when
//! `SALESBOT_TEST_PG_URL` is set (`.ci/run` sets it) and are skipped with a printed reason
//! otherwise.

mod helpers;

mod alerts;
mod approval_dingtalk;
mod approval_events;
mod approval_reminders;
mod approvals;
mod assignment;
mod assignment_dingtalk;
mod assignment_webhooks;
mod binary;
mod cards;
mod channel_codes;
mod chat;
mod chat_tasks;
mod contacts;
mod customers;
mod dingtalk;
mod dingtalk_stream;
mod golden;
mod group_activity;
mod groups;
mod http;
mod inbox;
mod leads;
mod link_identity;
mod link_registrations;
mod links;
mod links_outage;
mod migrations;
mod outbox;
mod registrations;
mod scheduler;
mod task_overdue;
mod tasks;
mod tokens;
mod webhooks;
mod wecom;
