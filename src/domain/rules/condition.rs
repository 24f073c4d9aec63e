//! The conditions under a tagging rule's `when`: checked once at load and kept in the form
//! evaluation needs (sets for lists, lower case for `*_contains`), so that testing a customer
//! does no parsing and at most one lower-casing per text.

use std::{collections::HashSet, ops::Range};

use toml::Spanned;

use super::{
    error::RuleRef,
    facts::{CustomerType, Gender, Subject},
    file::RawWhen,
    report::Report,
};

/// One condition; a rule holds when all of its conditions do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Condition {
    State(String),
    StatePrefix(String),
    StateIn(HashSet<String>),
    Rep(String),
    RepIn(HashSet<String>),
    RepDepartment(String),
    CustomerType(CustomerType),
    /// Lower-cased.
    CorpNameContains(String),
    /// Lower-cased.
    PositionContains(String),
    /// Lower-cased.
    NameContains(String),
    AddWay(Vec<i64>),
    Gender(Gender),
}

impl Condition {
    pub(super) fn holds(&self, subject: &Subject<'_>) -> bool {
        let facts = subject.facts;
        let state = facts.state.as_deref();
        match self {
            Self::State(wanted) => state == Some(wanted.as_str()),
            Self::StatePrefix(prefix) => state.is_some_and(|s| s.starts_with(prefix.as_str())),
            Self::StateIn(states) => state.is_some_and(|s| states.contains(s)),
            Self::Rep(rep) => facts.rep == *rep,
            Self::RepIn(reps) => reps.contains(&facts.rep),
            Self::RepDepartment(department) => facts.rep_departments.contains(department),
            Self::CustomerType(kind) => facts.customer_type == *kind,
            Self::CorpNameContains(part) => subject
                .corp_name_lower()
                .is_some_and(|corp| corp.contains(part.as_str())),
            Self::PositionContains(part) => subject
                .position_lower()
                .is_some_and(|position| position.contains(part.as_str())),
            Self::NameContains(part) => subject.name_lower().contains(part.as_str()),
            Self::AddWay(codes) => facts.add_way.is_some_and(|way| codes.contains(&way)),
            Self::Gender(gender) => facts.gender == *gender,
        }
    }
}

/// The conditions of `when`, or the reasons they are unusable in the report. `header` is the
/// rule's own span, for a rule with no `when` at all.
pub(super) fn compile(
    when: Option<Spanned<RawWhen>>,
    header: &Range<usize>,
    at: &RuleRef,
    report: &mut Report<'_>,
) -> Vec<Condition> {
    const NONE: &str = "has no conditions; add at least one under `when` \
        (a rule for every customer is refused as a likely mistake)";
    let Some(when) = when else {
        report.add(header.clone(), Some(at), NONE);
        return Vec::new();
    };
    let span = when.span();
    let mut c = Compiler {
        at,
        report,
        given: 0,
    };
    let w = when.into_inner();
    let conditions = [
        c.text("state", w.state).map(Condition::State),
        c.text("state_prefix", w.state_prefix)
            .map(Condition::StatePrefix),
        c.set("state_in", w.state_in).map(Condition::StateIn),
        c.text("rep", w.rep).map(Condition::Rep),
        c.set("rep_in", w.rep_in).map(Condition::RepIn),
        c.text("rep_department", w.rep_department)
            .map(Condition::RepDepartment),
        c.value(w.customer_type)
            .map(|v| Condition::CustomerType(v.into())),
        c.text("corp_name_contains", w.corp_name_contains)
            .map(|v| Condition::CorpNameContains(v.to_lowercase())),
        c.text("position_contains", w.position_contains)
            .map(|v| Condition::PositionContains(v.to_lowercase())),
        c.text("name_contains", w.name_contains)
            .map(|v| Condition::NameContains(v.to_lowercase())),
        c.add_way(w.add_way).map(Condition::AddWay),
        c.value(w.gender).map(|v| Condition::Gender(v.into())),
    ];
    if c.given == 0 {
        c.report.add(span, Some(at), NONE);
    }
    conditions.into_iter().flatten().collect()
}

/// Checks one key of `when` at a time, counting the keys given so that an empty `when` is
/// told apart from one whose every condition was wrong.
struct Compiler<'r, 'a> {
    at: &'r RuleRef,
    report: &'r mut Report<'a>,
    given: usize,
}

impl Compiler<'_, '_> {
    fn count<T>(&mut self, value: Option<T>) -> Option<T> {
        self.given += usize::from(value.is_some());
        value
    }

    fn value<T>(&mut self, value: Option<Spanned<T>>) -> Option<T> {
        self.count(value).map(Spanned::into_inner)
    }

    /// A text that must not be blank: a blank one would match nothing or everything.
    fn text(&mut self, key: &str, value: Option<Spanned<String>>) -> Option<String> {
        let value = self.count(value)?;
        if value.get_ref().trim().is_empty() {
            let reason = format!("`when.{key}` is empty; give a value or leave it out");
            self.report.add(value.span(), Some(self.at), reason);
            return None;
        }
        Some(value.into_inner())
    }

    fn set(
        &mut self,
        key: &str,
        list: Option<Spanned<Vec<Spanned<String>>>>,
    ) -> Option<HashSet<String>> {
        let list = self.count(list)?;
        if list.get_ref().is_empty() {
            let reason =
                format!("`when.{key}` lists nothing; list at least one value or leave it out");
            self.report.add(list.span(), Some(self.at), reason);
            return None;
        }
        let mut set = HashSet::with_capacity(list.get_ref().len());
        let before = self.report.len();
        for item in list.into_inner() {
            if item.get_ref().trim().is_empty() {
                let reason = format!("`when.{key}` has an empty value");
                self.report.add(item.span(), Some(self.at), reason);
            } else {
                set.insert(item.into_inner());
            }
        }
        (self.report.len() == before).then_some(set)
    }

    /// `add_way` codes are the platform's numbers for how a customer was added; none is
    /// negative.
    fn add_way(&mut self, list: Option<Spanned<Vec<Spanned<i64>>>>) -> Option<Vec<i64>> {
        let list = self.count(list)?;
        if list.get_ref().is_empty() {
            let reason = "`when.add_way` lists nothing; list at least one code or leave it out";
            self.report.add(list.span(), Some(self.at), reason);
            return None;
        }
        let before = self.report.len();
        let mut codes = Vec::with_capacity(list.get_ref().len());
        for code in list.into_inner() {
            if *code.get_ref() < 0 {
                let reason = format!("`when.add_way`: {} is not an add_way code", code.get_ref());
                self.report.add(code.span(), Some(self.at), reason);
            } else if !codes.contains(code.get_ref()) {
                codes.push(code.into_inner());
            }
        }
        (self.report.len() == before).then_some(codes)
    }
}
