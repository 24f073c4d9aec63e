//! `salesbot check`: loads the rules and the message templates as `serve` would, and renders
//! every template with its sample data, showing the card as a recipient would read it and the
//! JSON each platform would be sent, so an operator sees the effect of an edit before deploying
//! it.

use std::io::Write;

use salesbot_dingtalk::api::WorkNotification;
use salesbot_wecom::api::SendMessage;
use serde::Serialize;

use crate::{
    cards::{Card, MessageKind, Templates, render},
    config::Config,
    domain::rules::Rules,
};

/// What to render; `None` = all.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub kind: Option<MessageKind>,
    pub locale: Option<String>,
}

/// Checks the templates of `config` and prints every rendering that `filter` selects. The
/// configuration itself was checked when it was loaded. Returns false, after printing every
/// problem with its file and line, when a template is broken.
pub fn run(config: &Config, filter: &Filter, out: &mut impl Write) -> anyhow::Result<bool> {
    writeln!(out, "configuration: ok")?;
    match &config.rules.file {
        None => writeln!(out, "rules: none configured")?,
        Some(file) => match Rules::load(file) {
            Ok(rules) => writeln!(
                out,
                "rules: {} ok ({} tagging rules, {} approval rules, {} assignment rules, {} pools, \
                 {} alert rules)",
                file.display(),
                rules.tagging().len(),
                rules.approval().len(),
                rules.assignment().rules().len(),
                rules.pools().count(),
                rules.alerts().len()
            )?,
            Err(e) => {
                writeln!(out, "rules: errors\n{e}")?;
                return Ok(false);
            }
        },
    }
    let templates = match Templates::load(config.templates.dir.as_deref()) {
        Ok(templates) => templates,
        Err(e) => {
            writeln!(out, "message templates: errors\n{e}")?;
            return Ok(false);
        }
    };
    let entries: Vec<_> = templates.entries().collect();
    writeln!(out, "message templates: {} ok", entries.len())?;
    for entry in entries {
        if filter.kind.is_some_and(|kind| kind != entry.kind)
            || filter
                .locale
                .as_deref()
                .is_some_and(|locale| locale != entry.locale)
        {
            continue;
        }
        let sample = Templates::sample(entry.kind);
        writeln!(
            out,
            "\n=== {} ({}) from {}",
            entry.kind, entry.locale, entry.file
        )?;
        let card = templates.render(entry.kind, entry.locale, sample)?;
        write_preview(&card, out)?;
        for state in Templates::states(entry.kind) {
            let decided = templates.render_state(entry.kind, entry.locale, state, sample)?;
            if let Some(status) = &decided.status {
                writeln!(out, "  state {state}: {}", status.caption)?;
            }
        }
        let task_id = format!("{}-check", entry.kind);
        let wecom = SendMessage::new(1000002, render::wecom::message(&card, &task_id, false))
            .to_users(["userid"]);
        write_json(out, "WeCom message/send", &wecom)?;
        write_json(
            out,
            "DingTalk interactive card (cardParamMap)",
            &render::dingtalk::card_data(&card),
        )?;
        let notice = WorkNotification::to_users(
            123456789,
            &["userid"],
            render::dingtalk::action_card(&card),
        );
        write_json(
            out,
            "DingTalk work notification (no card template)",
            &notice,
        )?;
    }
    Ok(true)
}

/// The card as plain text, in the order the platforms show it.
fn write_preview(card: &Card, out: &mut impl Write) -> std::io::Result<()> {
    let mut line = |text: &str| writeln!(out, "  | {text}");
    if let Some(source) = &card.source {
        line(source)?;
    }
    line(&format!("** {} **", card.title))?;
    if let Some(description) = &card.description {
        line(description)?;
    }
    if let Some(emphasis) = &card.emphasis {
        let label = emphasis.label.as_deref().unwrap_or("");
        line(&format!("[ {} ] {label}", emphasis.value))?;
    }
    for row in &card.rows {
        line(&format!("{}: {}", row.key, row.value))?;
    }
    if let Some(quote) = &card.quote {
        line(&format!("> {quote}"))?;
    }
    if !card.buttons.is_empty() {
        let buttons: Vec<String> = card
            .buttons
            .iter()
            .map(|b| match &b.url {
                Some(url) => format!("[{}]({url})", b.label),
                None => format!("[{}]", b.label),
            })
            .collect();
        line(&buttons.join(" "))?;
    }
    if let Some(link) = &card.link {
        line(&format!("-> {link}"))?;
    }
    Ok(())
}

fn write_json(out: &mut impl Write, title: &str, value: &impl Serialize) -> anyhow::Result<()> {
    writeln!(out, "  --- {title}")?;
    writeln!(out, "{}", serde_json::to_string_pretty(value)?)?;
    Ok(())
}
