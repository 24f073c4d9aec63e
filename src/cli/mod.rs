//! Operator commands that work on the database or the files directly, without a running
//! service: `salesbot outbox …` and `salesbot check`. `main` parses; these do the work and
//! write what they have to say to the given writer.

pub mod check;
pub mod outbox;
