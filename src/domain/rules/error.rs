//! What can be wrong with a rules file, worded so that whoever edits the file can find the
//! line and fix it without reading code.

use std::{fmt, path::PathBuf};

/// Why a rules file cannot be used. A bad file is refused whole: tagging customers by half a
/// rule set would be harder to notice than a service that does not start.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("cannot read rules file {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Every problem found, in the order of their lines, one per line of the message.
    #[error("{}", one_per_line(.0))]
    Invalid(Vec<Problem>),
}

impl RulesError {
    /// The problems found in the file's text; none when the file could not be read.
    pub fn problems(&self) -> &[Problem] {
        match self {
            Self::Read { .. } => &[],
            Self::Invalid(problems) => problems,
        }
    }
}

/// One problem, shown as `rules.toml:14: tagging[2] "East China team": reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file as it was given to [`super::Rules::load`] or [`super::Rules::parse`].
    pub file: String,
    /// 1-based, as editors count.
    pub line: usize,
    /// The rule the problem is in, when it is in one.
    pub rule: Option<RuleRef>,
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if let Some(rule) = &self.rule {
            write!(f, "{rule}: ")?;
        }
        f.write_str(&self.reason)
    }
}

/// Which rule a problem is in: its section, its position there (counted from 0, as in
/// `tagging[0]`) and its name when it has one, since the name is what people recognise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRef {
    pub section: &'static str,
    pub index: usize,
    pub name: Option<String>,
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.section, self.index)?;
        match &self.name {
            Some(name) => write!(f, " \"{name}\""),
            None => Ok(()),
        }
    }
}

fn one_per_line(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}
