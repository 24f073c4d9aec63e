//! What goes wrong with templates: problems found while loading (each naming the file, the line
//! and the field, so an operator can fix a file without guessing) and failures at render time.

use std::fmt;

use crate::cards::MessageKind;

/// Why the templates could not be loaded: every problem found, not just the first, so one run of
/// `salesbot check` is enough to fix a folder of templates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct TemplateError {
    problems: Vec<Problem>,
}

impl TemplateError {
    pub(super) fn new(problems: Vec<Problem>) -> Self {
        Self { problems }
    }

    /// The problems, in file order.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

/// One problem per line.
impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// One problem in one template file, shown as `file:line: field: reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file as the operator knows it: `message-templates/<name>` for an embedded default,
    /// the path in the override folder otherwise.
    pub file: String,
    /// The 1-based line in the file, when the problem has one (a missing entry has none).
    pub line: Option<usize>,
    /// The field, e.g. `title`, `rows[2].value`, `states.approved`.
    pub field: Option<String>,
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// A card could not be rendered from an event's data: a value the template needs is missing, or
/// the title came out empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template {kind}.{locale}: {field}: {reason}")]
pub struct RenderError {
    pub kind: MessageKind,
    /// The locale actually used, after falling back to the default.
    pub locale: &'static str,
    pub field: String,
    pub reason: String,
}

/// The reason of a template error in one line, without minijinja's `(in name:line)` suffix: the
/// file and line are given separately, in the file's terms rather than the template's.
pub(super) fn describe(error: &minijinja::Error) -> String {
    match error.detail() {
        Some(detail) => format!("{}: {detail}", error.kind()),
        None => error.kind().to_string(),
    }
}
