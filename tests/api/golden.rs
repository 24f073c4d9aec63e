//! Golden files of what each platform is sent for every message kind and locale, rendered from
//! the embedded templates and their sample data: `tests/golden/<kind>.<locale>.<platform>.json`.
//! A change to a template, the card model or a renderer shows up here as a diff to review.
//! After an intended change, rewrite them with `SALESBOT_UPDATE_GOLDEN=1 cargo test golden`.

use std::path::PathBuf;

use salesbot::cards::{Templates, render};
use salesbot_dingtalk::api::{UpdateCard, WorkNotification};
use salesbot_wecom::api::{SendMessage, UpdateTemplateCard};
use serde_json::{Value, json};

/// Fixed where the service would make them up, so the files are stable.
const TASK_ID: &str = "golden-task-0001";
const WECOM_AGENT: u32 = 1000002;
const DINGTALK_AGENT: i64 = 123456789;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Every request WeCom would get for `kind` in `locale`: the send, and one update per state.
fn wecom(templates: &Templates, kind: salesbot::cards::MessageKind, locale: &str) -> Value {
    let sample = Templates::sample(kind);
    let card = templates.render(kind, locale, sample).unwrap();
    let send = SendMessage::new(WECOM_AGENT, render::wecom::message(&card, TASK_ID, false))
        .to_users(["userid"])
        .with_duplicate_check(Some(1800));
    let markdown = SendMessage::new(WECOM_AGENT, render::wecom::message(&card, TASK_ID, true))
        .to_users(["userid"]);
    let mut updates = serde_json::Map::new();
    for state in Templates::states(kind) {
        let decided = templates.render_state(kind, locale, state, sample).unwrap();
        let update = render::wecom::update(&decided)
            .map(|change| UpdateTemplateCard::for_everyone(WECOM_AGENT, "RESPONSE_CODE", change));
        updates.insert((*state).into(), json!(update));
    }
    json!({ "message/send": send, "message/send (markdown)": markdown, "update_template_card": updates })
}

/// Every request DingTalk would get: the interactive card, its updates, and the work
/// notification used without a card template.
fn dingtalk(templates: &Templates, kind: salesbot::cards::MessageKind, locale: &str) -> Value {
    let sample = Templates::sample(kind);
    let card = templates.render(kind, locale, sample).unwrap();
    let mut updates = serde_json::Map::new();
    for state in Templates::states(kind) {
        let decided = templates.render_state(kind, locale, state, sample).unwrap();
        let update = UpdateCard::merge(TASK_ID, render::dingtalk::card_data(&decided));
        updates.insert((*state).into(), json!(update));
    }
    let notice = WorkNotification::to_users(
        DINGTALK_AGENT,
        &["userid"],
        render::dingtalk::action_card(&card),
    );
    json!({
        "cardData": render::dingtalk::card_data(&card),
        "card updates": updates,
        "asyncsend_v2": notice,
    })
}

#[test]
fn rendered_json_matches_the_golden_files_for_every_kind_and_platform() {
    let templates = Templates::load(None).unwrap();
    let update = std::env::var_os("SALESBOT_UPDATE_GOLDEN").is_some();
    let dir = golden_dir();
    let mut mismatches = Vec::new();
    let mut checked = 0;
    for entry in templates.entries() {
        for (platform, rendered) in [
            ("wecom", wecom(&templates, entry.kind, entry.locale)),
            ("dingtalk", dingtalk(&templates, entry.kind, entry.locale)),
        ] {
            let path = dir.join(format!("{}.{}.{platform}.json", entry.kind, entry.locale));
            let text = serde_json::to_string_pretty(&rendered).unwrap() + "\n";
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &text).unwrap();
            } else {
                match std::fs::read_to_string(&path) {
                    Ok(expected) if expected == text => {}
                    Ok(_) => mismatches.push(format!("{} differs", path.display())),
                    Err(e) => mismatches.push(format!("{}: {e}", path.display())),
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 13 * 2 * 2, "every kind × locale × platform");
    assert!(
        mismatches.is_empty(),
        "rendered JSON differs from the golden files (review, then rewrite them with \
         SALESBOT_UPDATE_GOLDEN=1 cargo test golden):\n{}",
        mismatches.join("\n")
    );
}
