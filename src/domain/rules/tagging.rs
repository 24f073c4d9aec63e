//! Tagging rules: which corp tags a new customer gets, and which rules gave each tag so the
//! customer's timeline can say why.

use toml::Spanned;

use super::{
    condition::{self, Condition},
    error::RuleRef,
    facts::{Subject, TaggingFacts},
    file::{Entry, RawTaggingRule},
    report::{Report, RuleNames},
    tag::TagName,
};

/// One `[[tagging]]` rule: when all its conditions hold, the customer gets all its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggingRule {
    name: String,
    conditions: Vec<Condition>,
    /// Without repeats, in the order written.
    tags: Vec<TagName>,
}

/// A tag to put on a customer and the names of the rules that asked for it, in rule order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tagging {
    pub tag: TagName,
    pub rules: Vec<String>,
}

impl TaggingRule {
    /// Unique within the file; shown in logs, errors and the customer's timeline.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn tags(&self) -> &[TagName] {
        &self.tags
    }

    /// Whether every condition of the rule holds for these facts.
    pub fn matches(&self, facts: &TaggingFacts) -> bool {
        self.holds(&Subject::new(facts))
    }

    fn holds(&self, subject: &Subject<'_>) -> bool {
        self.conditions.iter().all(|c| c.holds(subject))
    }
}

/// The union of the tags of every rule that matches, each tag once, in the order first
/// seen. Results are a handful of tags, so a linear search beats hashing here.
pub(super) fn tags_for(rules: &[TaggingRule], facts: &TaggingFacts) -> Vec<Tagging> {
    let subject = Subject::new(facts);
    let mut out: Vec<Tagging> = Vec::new();
    for rule in rules.iter().filter(|rule| rule.holds(&subject)) {
        for tag in &rule.tags {
            match out.iter_mut().find(|t| t.tag == *tag) {
                Some(tagging) => tagging.rules.push(rule.name.clone()),
                None => out.push(Tagging {
                    tag: tag.clone(),
                    rules: vec![rule.name.clone()],
                }),
            }
        }
    }
    out
}

/// Checks every rule, reporting all problems; returns the rules that had none.
pub(super) fn compile(
    entries: Vec<Entry<RawTaggingRule>>,
    report: &mut Report<'_>,
) -> Vec<TaggingRule> {
    let mut names = RuleNames::new("tagging", "the customer timeline");
    let mut rules = Vec::with_capacity(entries.len());
    for Entry { at, span, raw } in entries {
        let before = report.len();
        let name_span = raw.name.span();
        let name = raw.name.into_inner();
        names.check(&name, name_span, &at, report);
        let conditions = condition::compile(raw.when, &span, &at, report);
        let tags = compile_tags(raw.tags, &at, report);
        if report.len() == before {
            rules.push(TaggingRule {
                name,
                conditions,
                tags,
            });
        }
    }
    rules
}

/// A rule's tags, checked one by one; a tag written twice in one rule is kept once.
fn compile_tags(
    tags: Spanned<Vec<Spanned<String>>>,
    at: &RuleRef,
    report: &mut Report<'_>,
) -> Vec<TagName> {
    if tags.get_ref().is_empty() {
        report.add(
            tags.span(),
            Some(at),
            "`tags` lists nothing; a rule must add at least one tag",
        );
        return Vec::new();
    }
    let mut out: Vec<TagName> = Vec::with_capacity(tags.get_ref().len());
    for text in tags.into_inner() {
        match TagName::parse(text.get_ref()) {
            Ok(tag) if out.contains(&tag) => {}
            Ok(tag) => out.push(tag),
            Err(e) => report.add(text.span(), Some(at), e.to_string()),
        }
    }
    out
}
