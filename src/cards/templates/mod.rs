//! Message templates: one TOML file per message kind and locale whose fields are minijinja
//! templates over the event's data, rendered into a [`Card`]. The defaults are embedded in the
//! binary; a folder (`[templates] dir`) can replace any of them. Every template is compiled and
//! checked against its kind's sample data once, at load, so a broken template stops startup
//! with its file and line instead of failing a send. See docs/templates.md.

mod card;
mod compile;
mod contract;
mod embedded;
mod error;
mod file;
mod lines;
mod samples;
mod sources;
mod validate;

#[cfg(test)]
mod tests;

use std::path::Path;

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value, value::Serde};

pub use self::error::{Problem, RenderError, TemplateError};
use self::{
    card::{CardTemplate, Failure},
    error::describe,
};
use crate::cards::{Card, DEFAULT_LOCALE, LOCALES, MessageKind};

/// Every message template, compiled and checked.
#[derive(Debug)]
pub struct Templates {
    /// Holds the compiled templates of every field, by name; nothing is parsed at render.
    env: Environment<'static>,
    /// One per kind and locale, at [`slot`].
    cards: Vec<CardTemplate>,
}

/// Where a template came from, for listing and checking them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateEntry<'a> {
    pub kind: MessageKind,
    pub locale: &'static str,
    /// `message-templates/<kind>.<locale>.toml` for an embedded default, else the path of the
    /// file that replaced it.
    pub file: &'a str,
}

impl Templates {
    /// The embedded templates, each replaced by the file of the same name in `dir` when there
    /// is one (`<kind>.<locale>.toml`; other `*.toml` names are an error, other files are
    /// ignored). Fails with every problem found: files that do not parse, templates that do
    /// not compile, templates that fail against their kind's sample data.
    pub fn load(dir: Option<&Path>) -> Result<Self, TemplateError> {
        let mut problems = Vec::new();
        let sources = sources::gather(dir, &mut problems);
        let mut env = environment();
        let mut cards = Vec::with_capacity(sources.len());
        for source in &sources {
            let (card, mut found) = compile::compile(&mut env, source);
            if let Some(card) = card {
                found.extend(validate::validate(&env, &card, &source.text));
                cards.push(card);
            }
            // Missing entries have no line and come last.
            found.sort_by_key(|problem| (problem.line.is_none(), problem.line));
            problems.append(&mut found);
        }
        if problems.is_empty() {
            Ok(Self { env, cards })
        } else {
            Err(TemplateError::new(problems))
        }
    }

    /// The card of `kind` for `data`, in `locale` (see [`Templates::resolve_locale`]).
    pub fn render(
        &self,
        kind: MessageKind,
        locale: &str,
        data: &serde_json::Value,
    ) -> Result<Card, RenderError> {
        let template = self.template(kind, locale);
        let data = Value::from(Serde(data));
        template
            .render(&self.env, &data)
            .map_err(|failure| render_error(template, &failure))
    }

    /// The card of `kind` for `data` as it looks once decided: with the status `state_key` and
    /// its caption from `[states]`, rendered with the same data (which holds `state`).
    pub fn render_state(
        &self,
        kind: MessageKind,
        locale: &str,
        state_key: &str,
        data: &serde_json::Value,
    ) -> Result<Card, RenderError> {
        let template = self.template(kind, locale);
        let data = Value::from(Serde(data));
        let status = template
            .render_status(&self.env, state_key, &data)
            .map_err(|failure| render_error(template, &failure))?;
        let Some(status) = status else {
            let states = contract::states(kind);
            let reason = if states.is_empty() {
                format!("no such state: {kind} cards have none")
            } else {
                format!("no such state; {kind} cards have: {}", states.join(", "))
            };
            return Err(RenderError {
                kind,
                locale: template.locale,
                field: format!("states.{state_key}"),
                reason,
            });
        };
        let mut card = template
            .render(&self.env, &data)
            .map_err(|failure| render_error(template, &failure))?;
        card.status = Some(status);
        Ok(card)
    }

    /// The data `kind` supplies, with realistic values; what templates are checked against.
    /// For kinds with states it includes `state`, which real data holds only on an update.
    pub fn sample(kind: MessageKind) -> &'static serde_json::Value {
        samples::sample(kind)
    }

    /// The states a card of `kind` can be updated to with [`Templates::render_state`].
    pub fn states(kind: MessageKind) -> &'static [&'static str] {
        contract::states(kind)
    }

    /// Every template, by kind and then locale, with the file it came from.
    pub fn entries(&self) -> impl Iterator<Item = TemplateEntry<'_>> {
        self.cards.iter().map(|card| TemplateEntry {
            kind: card.kind,
            locale: card.locale,
            file: &card.file,
        })
    }

    /// The locale used for `requested`: the one of that name (ignoring case), else one of the
    /// same language (`en-US` → `en`), else the default, zh-CN.
    pub fn resolve_locale(requested: &str) -> &'static str {
        let language = |tag: &str| tag.split(['-', '_']).next().unwrap_or("").to_owned();
        LOCALES
            .iter()
            .find(|locale| locale.eq_ignore_ascii_case(requested))
            .or_else(|| {
                let wanted = language(requested);
                LOCALES
                    .iter()
                    .find(|locale| language(locale).eq_ignore_ascii_case(&wanted))
            })
            .copied()
            .unwrap_or(DEFAULT_LOCALE)
    }

    fn template(&self, kind: MessageKind, locale: &str) -> &CardTemplate {
        let locale = locale_index(Self::resolve_locale(locale));
        &self.cards[slot(kind, locale)]
    }
}

/// The environment every template is compiled into.
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // A variable the kind does not supply is a mistake in the template: fail, do not print "".
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Cards are plain text that renderers put into JSON; HTML escaping would show `&amp;`.
    env.set_auto_escape_callback(|_| AutoEscape::None);
    // Lets errors name the undefined expression (`customr.name`), not just "undefined value".
    env.set_debug(true);
    // A value the event does not have is null; show it as nothing rather than "none", so an
    // optional field or row with no value is left out.
    env.set_formatter(|out, state, value| {
        if value.is_none() {
            Ok(())
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
    env
}

fn render_error(template: &CardTemplate, failure: &Failure<'_>) -> RenderError {
    RenderError {
        kind: template.kind,
        locale: template.locale,
        field: failure.field.path.clone(),
        reason: failure.reason(),
    }
}

/// The position of `kind` in [`MessageKind::ALL`].
fn kind_index(kind: MessageKind) -> usize {
    kind as usize
}

/// The position of `locale` in [`LOCALES`]; the default's for an unknown one.
fn locale_index(locale: &str) -> usize {
    LOCALES.iter().position(|&l| l == locale).unwrap_or(0)
}

/// Where the template of a kind and locale is kept: kind by kind, locales in order.
fn slot(kind: MessageKind, locale_index: usize) -> usize {
    kind_index(kind) * LOCALES.len() + locale_index
}
