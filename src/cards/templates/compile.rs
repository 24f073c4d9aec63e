//! From a template file's text to a [`CardTemplate`]: parse the TOML, compile every field that
//! holds template syntax into the shared environment, and report each problem at its line.

use minijinja::Environment;
use toml::Spanned;

use super::{
    Problem,
    card::{ButtonTemplate, CardTemplate, EmphasisTemplate, Field, RowTemplate},
    describe,
    file::TemplateFile,
    lines::FileLines,
    sources::Source,
};

/// The card template of `source` (`None` when the file is not valid TOML of the right shape)
/// and the problems found compiling it. The template is returned even when some fields did not
/// compile, so the others can still be checked.
pub(super) fn compile(
    env: &mut Environment<'static>,
    source: &Source,
) -> (Option<CardTemplate>, Vec<Problem>) {
    let lines = FileLines {
        file: &source.file,
        text: &source.text,
    };
    let file = match TemplateFile::parse(&source.text) {
        Ok(file) => file,
        Err(error) => {
            let line = error.span.map(|span| lines.line(&span, None));
            return (None, vec![lines.problem(line, None, error.message)]);
        }
    };
    let mut compiler = Compiler {
        env,
        lines,
        prefix: format!("{}.{}", source.kind, source.locale),
        problems: Vec::new(),
    };
    let card = CardTemplate {
        kind: source.kind,
        locale: source.locale,
        file: source.file.clone(),
        title: compiler.field("title", &file.title),
        source: compiler.optional("source", &file.source),
        description: compiler.optional("description", &file.description),
        quote: compiler.optional("quote", &file.quote),
        link: compiler.optional("link", &file.link),
        emphasis: file.emphasis.as_ref().map(|emphasis| EmphasisTemplate {
            value: compiler.field("emphasis.value", &emphasis.value),
            label: compiler.optional("emphasis.label", &emphasis.label),
        }),
        rows: (file.rows.iter().enumerate())
            .map(|(i, row)| RowTemplate {
                key: compiler.field(&format!("rows[{i}].key"), &row.key),
                value: compiler.field(&format!("rows[{i}].value"), &row.value),
            })
            .collect(),
        buttons: (file.buttons.iter().enumerate())
            .map(|(i, button)| ButtonTemplate {
                key: button.key.get_ref().clone(),
                key_span: button.key.span(),
                style: button.style,
                label: compiler.field(&format!("buttons[{i}].label"), &button.label),
                url: compiler.optional(&format!("buttons[{i}].url"), &button.url),
            })
            .collect(),
        states: (file.states.iter())
            .map(|(key, caption)| {
                let field = compiler.field(&format!("states.{key}"), caption);
                (key.clone(), field)
            })
            .collect(),
    };
    (Some(card), compiler.problems)
}

struct Compiler<'e, 'f> {
    env: &'e mut Environment<'static>,
    lines: FileLines<'f>,
    /// `<kind>.<locale>`, which makes the template names of this file unique.
    prefix: String,
    problems: Vec<Problem>,
}

impl Compiler<'_, '_> {
    fn field(&mut self, path: &str, source: &Spanned<String>) -> Field {
        let name = format!("{}/{path}", self.prefix);
        let (field, error) = Field::compile(
            self.env,
            name,
            path.to_owned(),
            source.span(),
            source.get_ref(),
        );
        if let Some(error) = error {
            let line = self.lines.line(&field.span, error.line());
            let problem = self.lines.problem(Some(line), Some(path), describe(&error));
            self.problems.push(problem);
        }
        field
    }

    fn optional(&mut self, path: &str, source: &Option<Spanned<String>>) -> Option<Field> {
        source.as_ref().map(|source| self.field(path, source))
    }
}
