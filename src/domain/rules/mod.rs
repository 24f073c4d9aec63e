//! The rules file: what sales-ops configure without code, in one TOML file (`docs/rules.md`).
//!
//! This module loads and checks the file and evaluates its rules. It has a `tagging` section
//! now; assignment, approval and escalation sections come with the features that use them.
//! A file is either fully valid or refused with every problem it has, each naming the file,
//! line, rule and reason.

mod condition;
mod error;
mod facts;
mod file;
mod report;
mod tag;
mod tagging;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use error::{Problem, RuleRef, RulesError};
pub use facts::{CustomerType, Gender, TaggingFacts};
pub use tag::{MAX_TAG_CHARS, Part, TagName, TagNameError};
pub use tagging::{Tagging, TaggingRule};

use report::Report;

/// Every rule of the rules file, checked and ready to evaluate. The default has no rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    tagging: Vec<TaggingRule>,
}

impl Rules {
    /// Reads and checks the rules file at `path`; problems name the path as given.
    pub fn load(path: &Path) -> Result<Self, RulesError> {
        let text = std::fs::read_to_string(path).map_err(|source| RulesError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Checks the rules in `text`; `file` is the name problems give it.
    pub fn parse(text: &str, file: &str) -> Result<Self, RulesError> {
        let mut report = Report::new(file, text);
        let document = file::read(&mut report);
        let tagging = tagging::compile(document.tagging, &mut report);
        report.finish()?;
        Ok(Self { tagging })
    }

    /// The tagging rules, in file order.
    pub fn tagging(&self) -> &[TaggingRule] {
        &self.tagging
    }

    /// The tags a customer gets: the union of the tags of every matching tagging rule, each
    /// tag once, in the order first seen, with the names of the rules that asked for it.
    pub fn tags_for(&self, facts: &TaggingFacts) -> Vec<Tagging> {
        tagging::tags_for(&self.tagging, facts)
    }
}
