//! Collects the problems of one file so that all of them are reported at once, each at the
//! line its TOML span starts on.

use std::ops::Range;

use super::error::{Problem, RuleRef, RulesError};

/// The problems found so far in one file's text.
pub(super) struct Report<'a> {
    file: &'a str,
    text: &'a str,
    problems: Vec<Problem>,
}

impl<'a> Report<'a> {
    pub(super) fn new(file: &'a str, text: &'a str) -> Self {
        Self {
            file,
            text,
            problems: Vec::new(),
        }
    }

    pub(super) fn text(&self) -> &'a str {
        self.text
    }

    /// How many problems have been found; a rule is kept only if it added none.
    pub(super) fn len(&self) -> usize {
        self.problems.len()
    }

    pub(super) fn add(
        &mut self,
        span: Range<usize>,
        rule: Option<&RuleRef>,
        reason: impl Into<String>,
    ) {
        self.problems.push(Problem {
            file: self.file.to_string(),
            line: self.line(&span),
            rule: rule.cloned(),
            reason: reason.into(),
        });
    }

    /// The 1-based line a span starts on. Spans come from the TOML parser over this very
    /// text; one past the end still gets a line rather than a panic.
    pub(super) fn line(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        1 + self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
    }

    /// `Ok` when nothing was found, else every problem in line order (problems on one line
    /// stay in the order they were found).
    pub(super) fn finish(mut self) -> Result<(), RulesError> {
        if self.problems.is_empty() {
            return Ok(());
        }
        self.problems.sort_by_key(|p| p.line);
        Err(RulesError::Invalid(self.problems))
    }
}

/// Rule names of one section seen so far: every rule needs a name, used once in its section.
pub(super) struct RuleNames {
    section: &'static str,
    /// What the name is shown in, for the "empty name" message.
    shown_in: &'static str,
    /// Name → (index, line) of the rule that used it first.
    seen: std::collections::HashMap<String, (usize, usize)>,
}

impl RuleNames {
    pub(super) fn new(section: &'static str, shown_in: &'static str) -> Self {
        Self {
            section,
            shown_in,
            seen: std::collections::HashMap::new(),
        }
    }

    /// Reports an empty or repeated `name` of the rule `at`.
    pub(super) fn check(
        &mut self,
        name: &str,
        span: Range<usize>,
        at: &RuleRef,
        report: &mut Report<'_>,
    ) {
        if name.trim().is_empty() {
            let reason = format!(
                "`name` is empty; every rule needs a name for logs and {}",
                self.shown_in
            );
            report.add(span, Some(at), reason);
        } else if let Some((index, line)) = self.seen.get(name) {
            let reason = format!(
                "the name \"{name}\" is already used by {}[{index}] on line {line}",
                self.section
            );
            report.add(span, Some(at), reason);
        } else {
            self.seen
                .insert(name.to_owned(), (at.index, report.line(&span)));
        }
    }
}
