//! Who a card goes to: a member, a department or a tag of the platform's directory.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One addressee. A card for several members is one message per member, so each person's copy
/// has its own idempotency key, its own handle for updates, and its own delivery record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    /// A member's user id (WeCom `userid`, DingTalk `userId`).
    User(String),
    /// Everyone in a department (and, on DingTalk, its sub-departments).
    Department(String),
    /// Everyone with a directory tag (WeCom only).
    Tag(String),
}

impl Recipient {
    /// One recipient per member.
    pub fn users<I, S>(ids: I) -> Vec<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ids.into_iter().map(|id| Self::User(id.into())).collect()
    }

    /// The id, without its kind.
    pub fn id(&self) -> &str {
        match self {
            Self::User(id) | Self::Department(id) | Self::Tag(id) => id,
        }
    }
}

/// `user:dave`, `department:12`, `tag:3`: the form in idempotency keys and the `card` table.
impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            Self::User(_) => "user",
            Self::Department(_) => "department",
            Self::Tag(_) => "tag",
        };
        write!(f, "{kind}:{}", self.id())
    }
}
