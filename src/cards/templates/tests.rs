//! Loading, checking and rendering templates: the embedded defaults, overrides, errors at their
//! exact lines, and the rendering rules of docs/templates.md.

use std::{fs, path::Path};

use serde_json::json;

use super::*;
use crate::cards::{Button, ButtonStyle, Emphasis, Row, Status};

/// A template that passes for `kpi_alert`, to vary in tests.
const KPI: &str = r#"title = "KPI: {{ kpi.name }}"
"#;

/// Loads the embedded templates with `files` as overrides.
fn load_with(files: &[(&str, &str)]) -> Result<Templates, TemplateError> {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        fs::write(dir.path().join(name), text).unwrap();
    }
    Templates::load(Some(dir.path()))
}

/// The only problem of loading `files`, shown as the operator sees it, with the temp dir cut.
fn only_problem(files: &[(&str, &str)]) -> String {
    let error = load_with(files).unwrap_err();
    assert_eq!(error.problems().len(), 1, "{error}");
    let problem = &error.problems()[0];
    let name = Path::new(&problem.file)
        .file_name()
        .unwrap()
        .to_string_lossy();
    let mut shown = problem.clone();
    shown.file = name.into_owned();
    shown.to_string()
}

fn embedded() -> Templates {
    Templates::load(None).unwrap()
}

#[test]
fn every_embedded_template_renders_its_sample_in_both_locales() {
    let templates = embedded();
    let mut count = 0;
    for entry in templates.entries() {
        let sample = Templates::sample(entry.kind);
        let card = templates.render(entry.kind, entry.locale, sample).unwrap();
        assert!(!card.title.is_empty(), "{}", entry.file);
        assert!(card.rows.len() <= 6, "{}: WeCom shows 6 rows", entry.file);
        assert!(
            card.buttons.len() <= 6,
            "{}: WeCom shows 6 buttons",
            entry.file
        );
        assert!(!card.title.contains("none"), "{}", entry.file);
        for state in Templates::states(entry.kind) {
            let card = templates
                .render_state(entry.kind, entry.locale, state, sample)
                .unwrap();
            assert_eq!(card.status.unwrap().key, *state);
        }
        count += 1;
    }
    assert_eq!(count, MessageKind::ALL.len() * LOCALES.len());
}

#[test]
fn entries_name_the_embedded_files_by_kind_then_locale() {
    let templates = embedded();
    let entries: Vec<_> = templates.entries().collect();
    assert_eq!(
        entries[0],
        TemplateEntry {
            kind: MessageKind::CustomerWelcome,
            locale: "zh-CN",
            file: "message-templates/customer_welcome.zh-CN.toml",
        }
    );
    assert_eq!(entries[1].locale, "en");
    assert_eq!(entries[9].kind, MessageKind::ApprovalRequest);
    assert_eq!(
        entries[9].file,
        "message-templates/approval_request.en.toml"
    );
}

#[test]
fn the_approval_request_sample_renders_the_card_people_see() {
    let templates = embedded();
    let kind = MessageKind::ApprovalRequest;
    let card = templates
        .render(kind, "en", Templates::sample(kind))
        .unwrap();
    assert_eq!(card.title, "Discount approval: 杭州云栖贸易有限公司");
    assert_eq!(card.source.as_deref(), Some("Sales desk"));
    assert_eq!(
        card.emphasis,
        Some(Emphasis {
            value: "15%".into(),
            label: Some("discount asked".into())
        })
    );
    assert_eq!(
        card.rows[2],
        Row {
            key: "Amount".into(),
            value: "¥1,280,000.00".into()
        }
    );
    assert_eq!(
        card.buttons,
        [
            Button {
                key: "approve".into(),
                label: "Approve".into(),
                style: ButtonStyle::Primary,
                url: None
            },
            Button {
                key: "reject".into(),
                label: "Reject".into(),
                style: ButtonStyle::Danger,
                url: None
            },
        ]
    );
    assert!(card.is_interactive());
    assert!(!card.is_closed());
}

#[test]
fn samples_carry_state_exactly_for_the_kinds_with_states() {
    for kind in MessageKind::ALL {
        let sample = Templates::sample(kind);
        assert!(sample.is_object(), "{kind}");
        let has_state = sample.get(samples::STATE_KEY).is_some();
        assert_eq!(has_state, !Templates::states(kind).is_empty(), "{kind}");
        if has_state {
            for key in ["by", "at", "comment"] {
                assert!(
                    sample[samples::STATE_KEY][key].is_string(),
                    "{kind}: state.{key}"
                );
            }
        }
    }
}

#[test]
fn kinds_are_stored_in_the_order_of_all() {
    for (i, kind) in MessageKind::ALL.into_iter().enumerate() {
        assert_eq!(kind_index(kind), i);
    }
}

#[test]
fn templates_can_be_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Templates>();
}

#[test]
fn an_override_replaces_only_the_embedded_file_of_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kpi_alert.en.toml");
    fs::write(&path, KPI).unwrap();
    fs::write(dir.path().join("README.md"), "not a template").unwrap();
    let templates = Templates::load(Some(dir.path())).unwrap();
    let sample = Templates::sample(MessageKind::KpiAlert);

    let card = templates
        .render(MessageKind::KpiAlert, "en", sample)
        .unwrap();
    assert_eq!(
        card,
        Card {
            title: "KPI: 新增商机数".into(),
            ..Card::default()
        }
    );
    let zh = templates
        .render(MessageKind::KpiAlert, "zh-CN", sample)
        .unwrap();
    assert_eq!(zh.title, "指标预警：新增商机数");
    let entry = templates
        .entries()
        .find(|e| e.kind == MessageKind::KpiAlert && e.locale == "en")
        .unwrap();
    assert_eq!(entry.file, path.display().to_string());
}

#[test]
fn a_toml_file_with_an_unknown_name_is_rejected_by_name() {
    let error = load_with(&[("kpi_alerts.en.toml", KPI), ("kpi_alert.fr.toml", KPI)]).unwrap_err();
    let problems = error.problems();
    assert_eq!(problems.len(), 2, "{error}");
    assert!(problems[0].file.ends_with("kpi_alert.fr.toml"));
    assert!(problems[1].file.ends_with("kpi_alerts.en.toml"));
    assert!(problems[0].reason.contains("<kind>.<locale>.toml"));
    assert!(problems[0].reason.contains("zh-CN, en"));
    assert_eq!(problems[0].line, None);
}

#[test]
fn a_missing_override_folder_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    let error = Templates::load(Some(&missing)).unwrap_err();
    assert_eq!(error.problems().len(), 1);
    assert!(
        error
            .to_string()
            .contains("cannot read the template folder")
    );
}

#[test]
fn a_toml_syntax_error_names_its_line() {
    let text = "title = \"KPI\"\nsource = \"x\"\n\ndescription = = \"y\"\n";
    let shown = only_problem(&[("kpi_alert.en.toml", text)]);
    assert!(shown.starts_with("kpi_alert.en.toml:4: "), "{shown}");
}

#[test]
fn an_unknown_key_names_its_line() {
    let text = "title = \"KPI\"\n\n[[rows]]\nkey = \"a\"\nvalue = \"b\"\ncolour = \"red\"\n";
    let shown = only_problem(&[("kpi_alert.en.toml", text)]);
    assert!(shown.starts_with("kpi_alert.en.toml:6: "), "{shown}");
    assert!(shown.contains("unknown field `colour`"), "{shown}");
}

#[test]
fn a_template_syntax_error_in_a_multi_line_string_names_the_file_line() {
    let text = r#"title = "KPI"
source = "desk"
description = """
{{ kpi.name }} for {{ team.name }}
is {{ kpi.value }
which is bad"""
"#;
    let shown = only_problem(&[("kpi_alert.en.toml", text)]);
    assert_eq!(
        shown,
        "kpi_alert.en.toml:5: description: syntax error: unexpected `}`, expected end of variable block"
    );
}

#[test]
fn a_template_syntax_error_after_escaped_newlines_stays_on_the_literal_line() {
    let text = "title = \"KPI\"\nquote = \"a\\nb\\n{% if %}\"\n";
    let shown = only_problem(&[("kpi_alert.en.toml", text)]);
    assert!(
        shown.starts_with("kpi_alert.en.toml:2: quote: syntax error"),
        "{shown}"
    );
}

#[test]
fn an_undefined_variable_in_a_row_value_names_its_line() {
    let text = r#"title = "KPI"

[[rows]]
key = "Name"
value = "{{ kpi.name }}"

[[rows]]
key = "Value"
value = "{{ kpi.value }} of {{ kpi.treshold }}"
"#;
    let shown = only_problem(&[("kpi_alert.en.toml", text)]);
    assert_eq!(
        shown,
        "kpi_alert.en.toml:9: rows[1].value: undefined value: `kpi.treshold` is undefined"
    );
}

#[test]
fn an_undefined_variable_on_a_later_line_of_a_multi_line_value_names_that_line() {
    let text =
        "title = \"KPI\"\nquote = '''\n{{ kpi.name }}\n{{ kpi.period }}\n{{ customr.name }}'''\n";
    let shown = only_problem(&[("kpi_alert.en.toml", text)]);
    assert_eq!(
        shown,
        "kpi_alert.en.toml:5: quote: undefined value: `customr` is undefined"
    );
}

#[test]
fn every_problem_of_every_file_is_reported() {
    let kpi = "title = \"{{ kpi.nam }}\"\n[[rows]]\nkey = \"k\"\nvalue = \"{{ team }\"\n";
    let deal = "title = \"{{ deal.name }}\"\ncolor = 1\n";
    let error = load_with(&[
        ("kpi_alert.en.toml", kpi),
        ("deal_idle_alert.zh-CN.toml", deal),
    ])
    .unwrap_err();
    let lines: Vec<String> = error.to_string().lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 3, "{error}");
    assert!(
        lines[0].contains("deal_idle_alert.zh-CN.toml:2: unknown field `color`"),
        "{error}"
    );
    // A syntax error in one field does not hide a bad variable in another.
    assert!(
        lines[1].contains("kpi_alert.en.toml:1: title: undefined value"),
        "{error}"
    );
    assert!(
        lines[2].contains("kpi_alert.en.toml:4: rows[0].value: syntax error"),
        "{error}"
    );

    let kpi = "title = \"{{ kpi.nam }}\"\n[[rows]]\nkey = \"{{ tema.name }}\"\nvalue = \"v\"\n";
    let error = load_with(&[("kpi_alert.en.toml", kpi)]).unwrap_err();
    let lines: Vec<String> = error.to_string().lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{error}");
    assert!(
        lines[0].contains(".toml:1: title: undefined value"),
        "{error}"
    );
    assert!(
        lines[1].contains(".toml:3: rows[0].key: undefined value"),
        "{error}"
    );
}

#[test]
fn a_variable_the_kind_does_not_supply_fails_at_render() {
    let templates = embedded();
    let kind = MessageKind::DealIdleAlert;
    let mut data = Templates::sample(kind).clone();
    data["deal"].as_object_mut().unwrap().remove("stage");
    let error = templates.render(kind, "en", &data).unwrap_err();
    assert_eq!(
        error,
        RenderError {
            kind,
            locale: "en",
            field: "rows[1].value".into(),
            reason: "undefined value: `deal.stage` is undefined".into(),
        }
    );
    assert_eq!(
        error.to_string(),
        "template deal_idle_alert.en: rows[1].value: undefined value: `deal.stage` is undefined"
    );
}

#[test]
fn a_card_template_may_not_use_the_state_only_updates_supply() {
    let text = APPROVAL.replace("title = \"Approve\"", "title = \"{{ state.by }}\"");
    let shown = only_problem(&[("approval_request.en.toml", &text)]);
    assert_eq!(
        shown,
        "approval_request.en.toml:1: title: undefined value: `state` is undefined"
    );
}

#[test]
fn empty_optional_fields_rows_and_buttons_are_left_out() {
    let text = r#"title = "  KPI {{ kpi.name }}  "
source = "{{ owner.name }}"
description = "{% if kpi.value == '0' %}nothing yet{% endif %}"
quote = "{{ team.name or '' }}"
link = "  "

[emphasis]
value = "{{ kpi.value }}"
label = "{{ links.dashboard }}"

[[rows]]
key = "Team"
value = "{{ team.name }}"

[[rows]]
key = "Value"
value = """
   {{ kpi.value }}
"""

[[buttons]]
key = "open"
label = "Open"
url = "{{ links.dashboard }}"

[[buttons]]
key = "nolabel"
label = "{{ team.name }}"
url = "https://example.com"
"#;
    let templates = load_with(&[("kpi_alert.en.toml", text)]).unwrap();
    let data = json!({
        "kpi": { "name": "Leads", "value": "7", "threshold": "", "direction": "below", "period": "" },
        "team": { "name": null },
        "owner": { "name": "" },
        "links": { "dashboard": "" },
    });
    let card = templates
        .render(MessageKind::KpiAlert, "en", &data)
        .unwrap();
    assert_eq!(
        card,
        Card {
            title: "KPI Leads".into(),
            emphasis: Some(Emphasis {
                value: "7".into(),
                label: None
            }),
            rows: vec![Row {
                key: "Value".into(),
                value: "7".into()
            }],
            ..Card::default()
        }
    );
    let data = json!({
        "kpi": { "name": "Leads", "value": "", "threshold": "", "direction": "below", "period": "" },
        "team": { "name": "East" },
        "owner": { "name": "Li" },
        "links": { "dashboard": "https://example.com/d" },
    });
    let card = templates
        .render(MessageKind::KpiAlert, "en", &data)
        .unwrap();
    assert_eq!(card.source.as_deref(), Some("Li"));
    assert_eq!(card.quote.as_deref(), Some("East"));
    assert_eq!(card.emphasis, None);
    assert_eq!(card.rows.len(), 1);
    assert_eq!(card.buttons.len(), 2);
    assert_eq!(
        card.buttons[0].url.as_deref(),
        Some("https://example.com/d")
    );
    assert!(!card.is_interactive());
}

#[test]
fn output_is_plain_text_not_html() {
    let templates = embedded();
    let kind = MessageKind::KpiAlert;
    let mut data = Templates::sample(kind).clone();
    data["kpi"]["name"] = json!("Q&A <calls> \"won\"");
    let card = templates.render(kind, "en", &data).unwrap();
    assert_eq!(card.title, "KPI alert: Q&A <calls> \"won\"");
}

#[test]
fn an_empty_title_is_an_error() {
    let shown = only_problem(&[(
        "kpi_alert.en.toml",
        "title = \"{% if false %}x{% endif %}\"\n",
    )]);
    assert_eq!(
        shown,
        "kpi_alert.en.toml:1: title: renders empty; it must not be"
    );

    let templates = load_with(&[("kpi_alert.en.toml", "title = \"{{ kpi.name }}\"\n")]).unwrap();
    let mut data = Templates::sample(MessageKind::KpiAlert).clone();
    data["kpi"]["name"] = json!(" ");
    let error = templates
        .render(MessageKind::KpiAlert, "en", &data)
        .unwrap_err();
    assert_eq!(error.field, "title");
    assert_eq!(error.reason, "renders empty; it must not be");
}

/// A minimal approval request that passes the checks.
const APPROVAL: &str = r#"title = "Approve"
[[buttons]]
key = "approve"
label = "Yes"
style = "primary"
[[buttons]]
key = "reject"
label = "No"
style = "danger"
[states]
approved = "Approved by {{ state.by }}"
rejected = "Rejected by {{ state.by }}{% if state.comment %}: {{ state.comment }}{% endif %}"
withdrawn = "Withdrawn"
expired = "Expired"
"#;

#[test]
fn render_state_sets_the_status_from_its_caption() {
    let templates = embedded();
    let kind = MessageKind::ApprovalRequest;
    let sample = Templates::sample(kind);
    let open = templates.render(kind, "zh-CN", sample).unwrap();
    let card = templates
        .render_state(kind, "zh-CN", "approved", sample)
        .unwrap();
    assert_eq!(
        card.status,
        Some(Status {
            key: "approved".into(),
            caption: "已同意 · 王芳 2026-11-27 14:02".into()
        })
    );
    assert!(card.is_closed());
    assert_eq!(
        Card {
            status: None,
            ..card
        },
        open
    );

    let templates = load_with(&[("approval_request.en.toml", APPROVAL)]).unwrap();
    let card = templates
        .render_state(kind, "en", "rejected", sample)
        .unwrap();
    assert_eq!(
        card.status.unwrap().caption,
        "Rejected by 王芳: 同意，回款请按季度。"
    );
}

#[test]
fn render_state_rejects_an_unknown_state() {
    let templates = embedded();
    let kind = MessageKind::ApprovalRequest;
    let error = templates
        .render_state(kind, "en", "approve", Templates::sample(kind))
        .unwrap_err();
    assert_eq!(error.field, "states.approve");
    assert_eq!(
        error.reason,
        "no such state; approval_request cards have: approved, rejected, withdrawn, expired"
    );
    let kind = MessageKind::KpiAlert;
    let error = templates
        .render_state(kind, "en", "approved", Templates::sample(kind))
        .unwrap_err();
    assert_eq!(error.reason, "no such state: kpi_alert cards have none");
}

#[test]
fn states_must_match_the_states_of_the_kind() {
    let text = APPROVAL
        .replace("expired = \"Expired\"\n", "")
        .replace("withdrawn =", "retracted =");
    let error = load_with(&[("approval_request.en.toml", &text)]).unwrap_err();
    let shown: Vec<String> = error
        .problems()
        .iter()
        .map(|p| {
            format!(
                "{:?} {} {}",
                p.line,
                p.field.as_deref().unwrap_or(""),
                p.reason
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            "Some(13) states.retracted not a state of approval_request cards; their states are: approved, rejected, withdrawn, expired",
            "None states.withdrawn missing: every state needs a caption",
            "None states.expired missing: every state needs a caption",
        ]
    );

    let text = "title = \"KPI\"\n[states]\ndone = \"Done\"\n";
    let shown = only_problem(&[("kpi_alert.en.toml", text)]);
    assert_eq!(
        shown,
        "kpi_alert.en.toml:3: states.done: kpi_alert cards are never updated, so they have no states"
    );
}

#[test]
fn callback_buttons_must_be_actions_of_the_kind() {
    let text = APPROVAL.replace("key = \"reject\"", "key = \"deny\"");
    let shown = only_problem(&[("approval_request.en.toml", &text)]);
    assert_eq!(
        shown,
        "approval_request.en.toml:7: buttons[1].key: `deny` is not an action of approval_request cards; callback buttons must use one of: approve, reject"
    );

    let text = "title = \"KPI\"\n[[buttons]]\nkey = \"ack\"\nlabel = \"OK\"\n";
    let shown = only_problem(&[("kpi_alert.en.toml", text)]);
    assert!(
        shown.starts_with("kpi_alert.en.toml:3: buttons[0].key: `ack` is a callback button"),
        "{shown}"
    );

    let text = "title = \"KPI\"\n[[buttons]]\nkey = \"open\"\nlabel = \"Open\"\nurl = \"{{ links.dashboard }}\"\n[[buttons]]\nkey = \"open\"\nlabel = \"Again\"\nurl = \"https://example.com\"\n";
    let shown = only_problem(&[("kpi_alert.en.toml", text)]);
    assert_eq!(
        shown,
        "kpi_alert.en.toml:7: buttons[1].key: `open` is the key of another button"
    );
}

#[test]
fn an_unknown_locale_falls_back_to_the_default() {
    assert_eq!(Templates::resolve_locale("en"), "en");
    assert_eq!(Templates::resolve_locale("EN"), "en");
    assert_eq!(Templates::resolve_locale("en-US"), "en");
    assert_eq!(Templates::resolve_locale("zh_TW"), "zh-CN");
    assert_eq!(Templates::resolve_locale("fr"), "zh-CN");
    assert_eq!(Templates::resolve_locale(""), "zh-CN");

    let templates = embedded();
    let kind = MessageKind::TaskReminder;
    let sample = Templates::sample(kind);
    let fallback = templates.render(kind, "fr-FR", sample).unwrap();
    assert_eq!(fallback, templates.render(kind, "zh-CN", sample).unwrap());
    assert_eq!(fallback.title, "任务已逾期：回访：确认年度订阅报价");

    let mut data = sample.clone();
    data["task"].as_object_mut().unwrap().remove("title");
    assert_eq!(
        templates.render(kind, "fr", &data).unwrap_err().locale,
        "zh-CN"
    );
}

/// docs/templates.md lists, under each kind's heading, every variable of its sample.
#[test]
fn the_docs_list_every_variable_of_every_kind() {
    let docs = include_str!("../../../docs/templates.md");
    for kind in MessageKind::ALL {
        let heading = format!("### `{kind}`");
        let start = docs
            .find(&heading)
            .unwrap_or_else(|| panic!("no section {heading}"));
        let section = &docs[start + heading.len()..];
        let section = &section[..section.find("\n### ").unwrap_or(section.len())];
        let mut paths = Vec::new();
        leaf_paths("", Templates::sample(kind), &mut paths);
        for path in paths {
            assert!(
                section.contains(&format!("`{path}`")),
                "docs/templates.md, {heading}: no `{path}`"
            );
        }
        for state in Templates::states(kind) {
            assert!(
                section.contains(&format!("`{state}`")),
                "{heading}: state {state}"
            );
        }
    }
}

fn leaf_paths(prefix: &str, value: &serde_json::Value, out: &mut Vec<String>) {
    match value.as_object() {
        Some(object) => {
            for (key, value) in object {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                leaf_paths(&path, value, out);
            }
        }
        None => out.push(prefix.to_owned()),
    }
}
