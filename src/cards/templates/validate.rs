//! The checks a compiled template must pass before salesbot starts: it offers only the callbacks
//! its kind handles, has a caption for every state of its kind, and renders against its kind's
//! sample data — so a misspelt variable is found on startup, not on the first real event.

use std::collections::HashSet;

use minijinja::{Environment, Value, value::Serde};

use super::{
    Problem,
    card::{CardTemplate, Failure, Field},
    contract,
    lines::FileLines,
    samples,
};

/// Every problem of `card`, whose file's text is `text`. Fields that did not compile have been
/// reported already and are skipped.
pub(super) fn validate(
    env: &Environment<'static>,
    card: &CardTemplate,
    text: &str,
) -> Vec<Problem> {
    let lines = FileLines {
        file: &card.file,
        text,
    };
    let mut problems = Vec::new();
    check_buttons(card, &lines, &mut problems);
    check_states(card, &lines, &mut problems);

    // A new card is rendered without `state`; only its captions see it.
    let data = Value::from(Serde(samples::sample_without_state(card.kind)));
    for field in card.fields().filter(|field| field.is_valid()) {
        match field.render(env, &data) {
            Ok(text) if text.is_empty() && std::ptr::eq(field, &card.title) => {
                problems.push(failure(&lines, field, None));
            }
            Ok(_) => {}
            Err(error) => problems.push(failure(&lines, field, Some(error))),
        }
    }
    let with_state = Value::from(Serde(samples::sample(card.kind)));
    for (_, caption) in card.states.iter().filter(|(_, caption)| caption.is_valid()) {
        match caption.render(env, &with_state) {
            Ok(text) if text.is_empty() => problems.push(failure(&lines, caption, None)),
            Ok(_) => {}
            Err(error) => problems.push(failure(&lines, caption, Some(error))),
        }
    }
    problems
}

fn failure(lines: &FileLines<'_>, field: &Field, error: Option<minijinja::Error>) -> Problem {
    let template_line = error.as_ref().and_then(minijinja::Error::line);
    let line = lines.line(&field.span, template_line);
    let reason = Failure { field, error }.reason();
    lines.problem(Some(line), Some(&field.path), reason)
}

/// Button keys are unique and not empty, and callback buttons use the keys the tap handler of
/// this kind knows.
fn check_buttons(card: &CardTemplate, lines: &FileLines<'_>, problems: &mut Vec<Problem>) {
    let actions = contract::actions(card.kind);
    let mut seen = HashSet::new();
    for (i, button) in card.buttons.iter().enumerate() {
        let field = format!("buttons[{i}].key");
        let line = Some(lines.line(&button.key_span, None));
        if button.key.trim().is_empty() {
            problems.push(lines.problem(line, Some(&field), "must not be empty"));
        } else if !seen.insert(button.key.as_str()) {
            let reason = format!("`{}` is the key of another button", button.key);
            problems.push(lines.problem(line, Some(&field), reason));
        }
        if button.url.is_none() && !actions.contains(&button.key.as_str()) {
            let reason = if actions.is_empty() {
                format!(
                    "`{}` is a callback button (it has no `url`), but nothing handles taps on {} cards; give it a `url`",
                    button.key, card.kind
                )
            } else {
                format!(
                    "`{}` is not an action of {} cards; callback buttons must use one of: {}",
                    button.key,
                    card.kind,
                    actions.join(", ")
                )
            };
            problems.push(lines.problem(line, Some(&field), reason));
        }
    }
}

/// `[states]` has a caption for every state of the kind and nothing else.
fn check_states(card: &CardTemplate, lines: &FileLines<'_>, problems: &mut Vec<Problem>) {
    let states = contract::states(card.kind);
    for (key, caption) in &card.states {
        if !states.contains(&key.as_str()) {
            let reason = if states.is_empty() {
                format!(
                    "{} cards are never updated, so they have no states",
                    card.kind
                )
            } else {
                format!(
                    "not a state of {} cards; their states are: {}",
                    card.kind,
                    states.join(", ")
                )
            };
            let line = Some(lines.line(&caption.span, None));
            problems.push(lines.problem(line, Some(&caption.path), reason));
        }
    }
    for state in states {
        if !card.states.iter().any(|(key, _)| key == state) {
            let field = format!("states.{state}");
            problems.push(lines.problem(
                None,
                Some(&field),
                "missing: every state needs a caption",
            ));
        }
    }
}
