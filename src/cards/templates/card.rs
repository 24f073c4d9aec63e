//! A compiled card template: each field either a literal or the name of a template compiled
//! once into the shared environment, and the rules that turn their output into a [`Card`].

use std::ops::Range;

use minijinja::{Environment, Value};

use crate::cards::{Button, ButtonStyle, Card, Emphasis, MessageKind, Row, Status};

/// One field of a card template.
#[derive(Debug)]
pub(super) struct Field {
    /// Where it is in the card, e.g. `rows[2].value`; used in every error about it.
    pub path: String,
    /// The byte range of its string literal in the file, quotes included.
    pub span: Range<usize>,
    text: Text,
}

/// Most row keys and labels hold no template syntax; keeping those as plain strings spares a
/// template lookup and render per field on every card.
#[derive(Debug)]
enum Text {
    Literal(String),
    /// The name of the template in the environment.
    Template(String),
    /// A template that did not compile. Loading fails with its error, so it is never rendered;
    /// it is kept so the rest of its file can still be checked.
    Invalid,
}

impl Field {
    /// A field whose source is `source`; a source with template syntax is compiled into `env`
    /// under `name`. On a compile error the field is returned too, marked invalid, so the
    /// caller can go on checking the rest of the file.
    pub(super) fn compile(
        env: &mut Environment<'static>,
        name: String,
        path: String,
        span: Range<usize>,
        source: &str,
    ) -> (Self, Option<minijinja::Error>) {
        let is_template = ["{{", "{%", "{#"].iter().any(|open| source.contains(open));
        let (text, error) = if !is_template {
            (Text::Literal(source.trim().to_owned()), None)
        } else {
            match env.add_template_owned(name.clone(), source.to_owned()) {
                Ok(()) => (Text::Template(name), None),
                Err(error) => (Text::Invalid, Some(error)),
            }
        };
        (Self { path, span, text }, error)
    }

    /// Whether the field compiled, and so can be rendered.
    pub(super) fn is_valid(&self) -> bool {
        !matches!(self.text, Text::Invalid)
    }

    /// The field's text for this data, without surrounding whitespace.
    pub(super) fn render(
        &self,
        env: &Environment<'static>,
        data: &Value,
    ) -> Result<String, minijinja::Error> {
        match &self.text {
            Text::Literal(text) => Ok(text.clone()),
            Text::Template(name) => {
                let out = env.get_template(name)?.render(data.clone())?;
                let trimmed = out.trim();
                Ok(if trimmed.len() == out.len() {
                    out
                } else {
                    trimmed.to_owned()
                })
            }
            Text::Invalid => Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                "the template did not compile",
            )),
        }
    }

    fn render_optional(
        &self,
        env: &Environment<'static>,
        data: &Value,
    ) -> Result<Option<String>, Failure<'_>> {
        let text = self.render(env, data).map_err(|error| self.failed(error))?;
        Ok(Some(text).filter(|text| !text.is_empty()))
    }

    fn render_required(
        &self,
        env: &Environment<'static>,
        data: &Value,
    ) -> Result<String, Failure<'_>> {
        match self.render_optional(env, data)? {
            Some(text) => Ok(text),
            None => Err(Failure {
                field: self,
                error: None,
            }),
        }
    }

    fn failed(&self, error: minijinja::Error) -> Failure<'_> {
        Failure {
            field: self,
            error: Some(error),
        }
    }
}

fn optional<'a>(
    field: &'a Option<Field>,
    env: &Environment<'static>,
    data: &Value,
) -> Result<Option<String>, Failure<'a>> {
    match field {
        Some(field) => field.render_optional(env, data),
        None => Ok(None),
    }
}

/// A field that could not be rendered: the template failed, or (`error` is `None`) a field that
/// must not be empty came out empty.
#[derive(Debug)]
pub(super) struct Failure<'a> {
    pub field: &'a Field,
    pub error: Option<minijinja::Error>,
}

impl Failure<'_> {
    pub(super) fn reason(&self) -> String {
        match &self.error {
            Some(error) => super::error::describe(error),
            None => "renders empty; it must not be".to_owned(),
        }
    }
}

#[derive(Debug)]
pub(super) struct EmphasisTemplate {
    pub value: Field,
    pub label: Option<Field>,
}

#[derive(Debug)]
pub(super) struct RowTemplate {
    pub key: Field,
    pub value: Field,
}

#[derive(Debug)]
pub(super) struct ButtonTemplate {
    pub key: String,
    /// Where the key is in the file, for errors about it.
    pub key_span: Range<usize>,
    pub style: ButtonStyle,
    pub label: Field,
    pub url: Option<Field>,
}

/// The template of one message kind in one locale.
#[derive(Debug)]
pub(super) struct CardTemplate {
    pub kind: MessageKind,
    pub locale: &'static str,
    /// The file it came from, as shown in errors and by `salesbot check`.
    pub file: String,
    pub title: Field,
    pub source: Option<Field>,
    pub description: Option<Field>,
    pub quote: Option<Field>,
    pub link: Option<Field>,
    pub emphasis: Option<EmphasisTemplate>,
    pub rows: Vec<RowTemplate>,
    pub buttons: Vec<ButtonTemplate>,
    /// State key → caption, sorted by key.
    pub states: Vec<(String, Field)>,
}

impl CardTemplate {
    /// The card for this data. Empty optional fields, rows and buttons are left out; an empty
    /// title is a failure.
    pub(super) fn render(
        &self,
        env: &Environment<'static>,
        data: &Value,
    ) -> Result<Card, Failure<'_>> {
        let title = self.title.render_required(env, data)?;
        let source = optional(&self.source, env, data)?;
        let description = optional(&self.description, env, data)?;
        let emphasis = match &self.emphasis {
            Some(emphasis) => match emphasis.value.render_optional(env, data)? {
                Some(value) => Some(Emphasis {
                    value,
                    label: optional(&emphasis.label, env, data)?,
                }),
                None => None,
            },
            None => None,
        };
        let mut rows = Vec::with_capacity(self.rows.len());
        for row in &self.rows {
            let (Some(key), Some(value)) = (
                row.key.render_optional(env, data)?,
                row.value.render_optional(env, data)?,
            ) else {
                continue;
            };
            rows.push(Row { key, value });
        }
        let mut buttons = Vec::with_capacity(self.buttons.len());
        for button in &self.buttons {
            let Some(label) = button.label.render_optional(env, data)? else {
                continue;
            };
            let url = match &button.url {
                // A link button without its link would turn into a callback: leave it out.
                Some(url) => match url.render_optional(env, data)? {
                    Some(url) => Some(url),
                    None => continue,
                },
                None => None,
            };
            buttons.push(Button {
                key: button.key.clone(),
                label,
                style: button.style,
                url,
            });
        }
        Ok(Card {
            title,
            source,
            description,
            rows,
            emphasis,
            quote: optional(&self.quote, env, data)?,
            link: optional(&self.link, env, data)?,
            buttons,
            status: None,
        })
    }

    /// The state `key` with its caption for this data; `Ok(None)` when the file has no such
    /// state.
    pub(super) fn render_status(
        &self,
        env: &Environment<'static>,
        key: &str,
        data: &Value,
    ) -> Result<Option<Status>, Failure<'_>> {
        let Some((key, caption)) = self.states.iter().find(|(k, _)| k == key) else {
            return Ok(None);
        };
        Ok(Some(Status {
            key: key.clone(),
            caption: caption.render_required(env, data)?,
        }))
    }

    /// Every field of the card itself, not the state captions.
    pub(super) fn fields(&self) -> impl Iterator<Item = &Field> {
        let singles = [&self.source, &self.description, &self.quote, &self.link];
        let emphasis = self
            .emphasis
            .iter()
            .flat_map(|e| std::iter::once(&e.value).chain(e.label.as_ref()));
        let rows = self.rows.iter().flat_map(|r| [&r.key, &r.value]);
        let buttons = self
            .buttons
            .iter()
            .flat_map(|b| std::iter::once(&b.label).chain(b.url.as_ref()));
        std::iter::once(&self.title)
            .chain(singles.into_iter().flatten())
            .chain(emphasis)
            .chain(rows)
            .chain(buttons)
    }
}
