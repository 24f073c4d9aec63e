//! One template file as written: the TOML parsed into template sources that keep their place in
//! the file, so every later problem can name its line.

use std::{collections::BTreeMap, ops::Range};

use serde::Deserialize;
use toml::Spanned;

use crate::cards::ButtonStyle;

/// The fields of one `<kind>.<locale>.toml` file. Unknown keys are an error, so a misspelt
/// optional field is reported rather than silently never shown.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TemplateFile {
    pub title: Spanned<String>,
    pub source: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    pub quote: Option<Spanned<String>>,
    pub link: Option<Spanned<String>>,
    pub emphasis: Option<EmphasisSource>,
    #[serde(default)]
    pub rows: Vec<RowSource>,
    #[serde(default)]
    pub buttons: Vec<ButtonSource>,
    /// State key → caption template.
    #[serde(default)]
    pub states: BTreeMap<String, Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EmphasisSource {
    pub value: Spanned<String>,
    pub label: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RowSource {
    pub key: Spanned<String>,
    pub value: Spanned<String>,
}

/// A button: its key and style are literal, because the code that handles the tap matches on
/// the key and a template could not be checked against every value it might produce.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ButtonSource {
    pub key: Spanned<String>,
    pub label: Spanned<String>,
    #[serde(default)]
    pub style: ButtonStyle,
    pub url: Option<Spanned<String>>,
}

/// A TOML syntax or shape error: the message and the byte range it points at.
#[derive(Debug)]
pub(super) struct ParseError {
    pub message: String,
    pub span: Option<Range<usize>>,
}

impl TemplateFile {
    pub(super) fn parse(text: &str) -> Result<Self, ParseError> {
        toml::from_str(text).map_err(|error| ParseError {
            message: error.message().to_owned(),
            span: error.span(),
        })
    }
}
