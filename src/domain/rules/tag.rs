//! A WeCom corp tag as the rules file names it: `group/name`.
//!
//! Rules name tags rather than tag ids because ids differ between corps and do not exist until
//! the tag is created; salesbot creates a missing tag the first time a rule applies it.

use std::{fmt, str::FromStr};

/// Most characters WeCom accepts in a tag group or tag name (`add_corp_tag`, wecom.md §5.8).
/// Checked here so that a long name fails when the file is loaded, not when a customer
/// arrives.
pub const MAX_TAG_CHARS: usize = 30;

/// The separator between group and name. Names containing it cannot be written in the file,
/// which keeps `a/b/c` from being silently read one way or the other.
const SEPARATOR: char = '/';

/// A tag group and a tag name, both non-empty, at most [`MAX_TAG_CHARS`] characters, without
/// spaces at either end.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagName {
    group: String,
    name: String,
}

/// Why a text is not a [`TagName`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagNameError {
    #[error("tag \"{0}\" must be \"group/name\"")]
    NotGroupAndName(String),
    #[error("tag \"{0}\" has more than one \"/\"; it must be \"group/name\"")]
    TooManySeparators(String),
    #[error("tag \"{text}\": the {part} is empty")]
    Empty { text: String, part: Part },
    #[error("tag \"{text}\": the {part} starts or ends with a space")]
    Spaces { text: String, part: Part },
    #[error(
        "tag \"{text}\": the {part} has {chars} characters; WeCom allows at most {MAX_TAG_CHARS}"
    )]
    TooLong {
        text: String,
        part: Part,
        chars: usize,
    },
}

/// Which half of a tag a [`TagNameError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Group,
    Name,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Group => "group",
            Self::Name => "name",
        })
    }
}

impl TagName {
    /// A tag from its two halves, as WeCom lists them (`group_name`, `tag_name`).
    pub fn new(group: &str, name: &str) -> Result<Self, TagNameError> {
        let text = || format!("{group}{SEPARATOR}{name}");
        if group.contains(SEPARATOR) || name.contains(SEPARATOR) {
            return Err(TagNameError::TooManySeparators(text()));
        }
        check_part(group, Part::Group, text)?;
        check_part(name, Part::Name, text)?;
        Ok(Self {
            group: group.to_string(),
            name: name.to_string(),
        })
    }

    /// A tag written as `group/name`.
    pub fn parse(text: &str) -> Result<Self, TagNameError> {
        match text.split_once(SEPARATOR) {
            None => Err(TagNameError::NotGroupAndName(text.to_string())),
            Some((group, name)) => Self::new(group, name),
        }
    }

    pub fn group(&self) -> &str {
        &self.group
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl FromStr for TagName {
    type Err = TagNameError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for TagName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{SEPARATOR}{}", self.group, self.name)
    }
}

fn check_part(value: &str, part: Part, text: impl Fn() -> String) -> Result<(), TagNameError> {
    if value.trim().is_empty() {
        return Err(TagNameError::Empty { text: text(), part });
    }
    if value.trim() != value {
        return Err(TagNameError::Spaces { text: text(), part });
    }
    let chars = value.chars().count();
    if chars > MAX_TAG_CHARS {
        return Err(TagNameError::TooLong {
            text: text(),
            part,
            chars,
        });
    }
    Ok(())
}
