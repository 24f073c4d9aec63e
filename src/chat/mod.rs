//! Reps' chat commands: a text to the WeCom app or to the DingTalk robot (`help`, `approval …`,
//! `withdraw …`, `tasks`, `done …`) is parsed, run, and answered in the same chat. docs/chat.md lists the
//! commands and their answers.

pub mod answer;
pub mod approval;
pub mod command;
pub mod handler;
pub mod incoming;
pub mod reply;
pub mod task;

pub use handler::{ChatCommands, register};
