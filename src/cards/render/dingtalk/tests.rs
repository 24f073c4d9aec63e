use salesbot_dingtalk::api::{ActionCard, WorkMessage};
use serde_json::{Value, json};

use super::*;
use crate::cards::ButtonStyle;
use crate::cards::render::fixtures::{approval, callback, decided, huge, link_button, notice};
use crate::cards::render::limits::ELLIPSIS;

const KEYS: [&str; 12] = [
    "title",
    "source",
    "description",
    "rows",
    "emphasis",
    "emphasisLabel",
    "quote",
    "link",
    "buttons",
    "status",
    "statusText",
    "showButtons",
];

fn params(card: &Card) -> std::collections::BTreeMap<String, String> {
    card_data(card).card_param_map
}

fn msg_bytes(message: &WorkMessage) -> usize {
    serde_json::to_vec(message).unwrap().len()
}

fn action(message: WorkMessage) -> ActionCard {
    match message {
        WorkMessage::ActionCard { action_card } => action_card,
        other => panic!("expected an action card, got {other:?}"),
    }
}

#[test]
fn card_data_maps_every_field_to_a_string_variable() {
    assert_eq!(
        serde_json::to_value(card_data(&approval())).unwrap(),
        json!({ "cardParamMap": {
            "title": "Discount approval",
            "source": "Sales desk",
            "description": "Deal D-1024 · requested by alice",
            "rows": r#"[{"key":"Customer","value":"ACME Ltd"},{"key":"Owner","value":"alice"}]"#,
            "emphasis": "15%",
            "emphasisLabel": "discount",
            "quote": "Annual plan, above the 10% threshold.",
            "link": "https://crm.example.com/deals/D-1024",
            "buttons": concat!(
                r#"[{"key":"approve","label":"Approve","style":"primary"},"#,
                r#"{"key":"reject","label":"Reject","style":"danger"},"#,
                r#"{"key":"open","label":"Open deal","style":"default","url":"https://crm.example.com/deals/D-1024"}]"#
            ),
            "status": "open",
            "statusText": "",
            "showButtons": "true"
        } })
    );
}

#[test]
fn card_data_always_has_every_variable_even_for_an_empty_card() {
    let params = params(&Card {
        title: "Hi".to_owned(),
        ..Card::default()
    });
    assert_eq!(params.keys().map(String::as_str).collect::<Vec<_>>(), {
        let mut keys = KEYS.to_vec();
        keys.sort_unstable();
        keys
    });
    assert_eq!(params["source"], "");
    assert_eq!(params["rows"], "[]");
    assert_eq!(params["buttons"], "[]");
    assert_eq!(params["status"], "open");
    assert_eq!(params["showButtons"], "false");
    assert!(KEYS.iter().all(|key| key.len() <= 100));
}

#[test]
fn a_decided_card_hides_its_buttons_and_shows_its_status() {
    let params = params(&decided());
    assert_eq!(params["status"], "approved");
    assert_eq!(params["statusText"], "Approved by Li Lei 14:02");
    assert_eq!(params["showButtons"], "false");
    assert_eq!(
        self::params(&notice())["showButtons"],
        "false",
        "no callback buttons"
    );
}

#[test]
fn every_variable_of_an_oversized_card_is_within_1_kb() {
    let card = huge();
    let params = params(&card);
    for (key, value) in &params {
        assert!(value.len() <= VALUE_BYTES, "{key}: {}", value.len());
    }
    assert!(
        params["title"].ends_with(ELLIPSIS),
        "500 Chinese characters are 1500 bytes"
    );
    assert!(params["description"].ends_with(ELLIPSIS));
    assert!(params["quote"].ends_with(ELLIPSIS));
    assert!(params["statusText"].len() <= VALUE_BYTES);

    // Lists lose whole items from the end and stay valid JSON.
    let rows: Vec<Value> = serde_json::from_str(&params["rows"]).unwrap();
    assert!(!rows.is_empty() && rows.len() < 10, "{}", rows.len());
    assert_eq!(rows[0]["key"], "客户名称字段0");
    assert_eq!(rows[0]["value"].as_str().unwrap().chars().count(), 200);
    let buttons: Vec<Value> = serde_json::from_str(&params["buttons"]).unwrap();
    assert!(
        !buttons.is_empty() && buttons.len() < 8,
        "{}",
        buttons.len()
    );
    assert_eq!(
        buttons[1]["url"],
        card.buttons[1].url.clone().unwrap().as_str()
    );
}

#[test]
fn a_link_over_1_kb_is_left_out_not_cut() {
    let card = Card {
        link: Some(format!(
            "https://crm.example.com/{}",
            "x".repeat(VALUE_BYTES)
        )),
        ..approval()
    };
    assert_eq!(params(&card)["link"], "");
}

#[test]
fn link_buttons_become_the_action_card_buttons() {
    assert_eq!(
        serde_json::to_value(action_card(&approval())).unwrap(),
        json!({
            "msgtype": "action_card",
            "action_card": {
                "title": "Discount approval",
                "markdown": "### Discount approval  \nSales desk  \nDeal D-1024 · requested by alice  \n\
                             **15%** discount  \n**Customer:** ACME Ltd  \n**Owner:** alice  \n\
                             > Annual plan, above the 10% threshold.",
                "btn_orientation": "1",
                "btn_json_list": [
                    { "title": "Open deal", "action_url": "https://crm.example.com/deals/D-1024" }
                ]
            }
        })
    );
}

#[test]
fn without_link_buttons_the_card_link_is_the_single_button() {
    let card = Card {
        buttons: vec![callback("approve", "Approve", ButtonStyle::Primary)],
        ..decided()
    };
    let action_card = action(action_card(&card));
    assert_eq!(action_card.single_title.as_deref(), Some("查看详情"));
    assert_eq!(action_card.single_url, card.link);
    assert_eq!(action_card.btn_json_list, None);
    assert!(
        action_card
            .markdown
            .starts_with("### Discount approval  \n**Approved by Li Lei 14:02**  \n"),
        "{}",
        action_card.markdown
    );
}

#[test]
fn a_card_without_any_link_is_a_markdown_message() {
    let card = Card {
        link: None,
        buttons: vec![callback("approve", "Approve", ButtonStyle::Primary)],
        ..approval()
    };
    assert_eq!(
        serde_json::to_value(action_card(&card)).unwrap()["markdown"]["title"],
        "Discount approval"
    );
    // A link too long for the single button is dropped, not cut.
    let card = Card {
        link: Some(format!("https://crm.example.com/{}", "x".repeat(500))),
        ..card
    };
    let WorkMessage::Markdown { markdown } = action_card(&card) else {
        panic!("expected markdown");
    };
    assert!(!markdown.text.contains("https://"));
}

#[test]
fn button_urls_over_700_characters_are_dropped_with_their_button() {
    let card = Card {
        buttons: vec![
            link_button(
                "a",
                "Too long",
                &format!("https://x.example/{}", "x".repeat(700)),
            ),
            link_button("b", "Fine", "https://x.example/b"),
        ],
        ..notice()
    };
    let buttons = action(action_card(&card)).btn_json_list.unwrap();
    assert_eq!(buttons.len(), 1);
    assert_eq!(buttons[0].title, "Fine");
}

#[test]
fn an_oversized_card_fits_2048_bytes_with_whole_buttons() {
    let card = huge();
    let message = action_card(&card);
    assert!(msg_bytes(&message) <= MSG_BYTES, "{}", msg_bytes(&message));
    let action_card = action(message);
    assert_eq!(action_card.title.chars().count(), 64);
    assert!(action_card.title.ends_with(ELLIPSIS));
    assert!(action_card.markdown.chars().count() <= 1000);
    assert!(action_card.markdown.starts_with("### 折扣审批"));
    assert!(action_card.markdown.ends_with(ELLIPSIS));
    assert_eq!(action_card.btn_orientation.as_deref(), Some("1"));
    let buttons = action_card.btn_json_list.unwrap();
    assert!(!buttons.is_empty());
    let list = serde_json::to_string(&buttons).unwrap();
    assert!(list.chars().count() <= 1000);
    for button in &buttons {
        assert_eq!(button.title.chars().count(), 20);
        assert!(
            card.buttons
                .iter()
                .any(|b| b.url.as_deref() == Some(&button.action_url))
        );
    }
}

#[test]
fn a_markdown_message_is_shortened_to_the_2048_byte_message() {
    // Without the figure (a markup line, kept whole or not at all) the rows follow the
    // description, and the last one that fits is cut to the byte.
    let card = Card {
        link: None,
        buttons: Vec::new(),
        emphasis: None,
        ..huge()
    };
    let message = action_card(&card);
    assert!(msg_bytes(&message) <= MSG_BYTES);
    assert!(
        msg_bytes(&message) > MSG_BYTES - 16,
        "no more is cut than needed"
    );
    let WorkMessage::Markdown { markdown } = message else {
        panic!("expected markdown");
    };
    assert!(markdown.text.ends_with(ELLIPSIS));
}

#[test]
fn buttons_too_large_for_the_message_are_given_up_from_the_end() {
    // Fourteen buttons of 20 four-byte characters fit the list's 1000 characters but take about
    // 1.8 KB, which with a long title leaves no room for the markdown.
    let buttons = (0..14)
        .map(|i| {
            link_button(
                &i.to_string(),
                &"😀".repeat(20),
                &format!("https://x.example/{i}"),
            )
        })
        .collect();
    let card = Card { buttons, ..huge() };
    let message = action_card(&card);
    assert!(msg_bytes(&message) <= MSG_BYTES);
    let action_card = action(message);
    assert!(action_card.markdown.starts_with("### 折扣审批"));
    let buttons = action_card.btn_json_list.unwrap();
    assert!(
        !buttons.is_empty() && buttons.len() < 14,
        "{}",
        buttons.len()
    );
    for (i, button) in buttons.iter().enumerate() {
        assert_eq!(button.action_url, format!("https://x.example/{i}"));
    }
}

#[test]
fn a_long_description_leaves_room_for_the_rows_in_the_action_card() {
    let card = Card {
        description: Some("说明".repeat(1500)),
        ..approval()
    };
    let message = action_card(&card);
    assert!(msg_bytes(&message) <= MSG_BYTES);
    let markdown = action(message).markdown;
    assert!(markdown.chars().count() <= 1000);
    assert!(markdown.contains("说明…  \n"), "the description is cut");
    assert!(markdown.contains("**Customer:** ACME Ltd"));
}
