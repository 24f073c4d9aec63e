use salesbot_wecom::api::{CardType, CardUpdate, MessageContent, TemplateCard};
use serde_json::{Value, json};

use super::*;
use crate::cards::render::fixtures::{approval, callback, decided, huge, link_button, notice};
use crate::cards::render::limits::ELLIPSIS;
use crate::cards::{ButtonStyle, Card};

fn to_json(template: &TemplateCard) -> Value {
    serde_json::to_value(template).unwrap()
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

#[test]
fn a_card_with_callback_buttons_renders_as_button_interaction_with_its_task_id() {
    let template = template_card(&approval(), "appr-D1024-1").unwrap();
    assert_eq!(
        to_json(&template),
        json!({
            "card_type": "button_interaction",
            "source": { "desc": "Sales desk" },
            "main_title": { "title": "Discount approval", "desc": "Deal D-1024 · requested by alice" },
            "quote_area": { "type": 0, "quote_text": "Annual plan, above the 10% threshold." },
            "horizontal_content_list": [
                { "keyname": "discount", "value": "15%" },
                { "keyname": "Customer", "value": "ACME Ltd" },
                { "keyname": "Owner", "value": "alice" }
            ],
            "card_action": { "type": 1, "url": "https://crm.example.com/deals/D-1024" },
            "task_id": "appr-D1024-1",
            "button_list": [
                { "text": "Approve", "style": 1, "key": "approve" },
                { "text": "Reject", "style": 3, "key": "reject" },
                { "text": "Open deal", "style": 4, "type": 1, "url": "https://crm.example.com/deals/D-1024" }
            ]
        })
    );
}

#[test]
fn a_card_without_callback_buttons_renders_as_text_notice_without_task_id() {
    let template = template_card(&notice(), "lead-L77-1").unwrap();
    assert_eq!(
        to_json(&template),
        json!({
            "card_type": "text_notice",
            "main_title": { "title": "新线索已分配给你", "desc": "来自展会 expo2024" },
            "horizontal_content_list": [ { "keyname": "客户", "value": "示例贸易有限公司" } ],
            "jump_list": [
                { "type": 1, "title": "拨打电话", "url": "https://crm.example.com/leads/L-77/call" }
            ],
            "card_action": { "type": 1, "url": "https://crm.example.com/leads/L-77" }
        })
    );
}

#[test]
fn text_notice_emphasis_is_the_big_number() {
    let card = Card {
        buttons: Vec::new(),
        ..approval()
    };
    let template = template_card(&card, "t").unwrap();
    assert_eq!(template.card_type, CardType::TextNotice);
    assert_eq!(
        serde_json::to_value(&template.emphasis_content).unwrap(),
        json!({ "title": "15%", "desc": "discount" })
    );
    assert_eq!(template.horizontal_content_list.len(), 2);
}

#[test]
fn a_text_notice_without_link_is_none_and_the_message_falls_back_to_markdown() {
    let card = Card {
        link: None,
        ..notice()
    };
    assert_eq!(template_card(&card, "t"), None);
    assert_eq!(
        message(&card, "t", false),
        MessageContent::markdown(markdown(&card))
    );
}

#[test]
fn a_link_too_long_to_send_whole_is_dropped_not_cut() {
    let long_url = format!("https://crm.example.com/{}", "x".repeat(URL_BYTES));
    let card = Card {
        link: Some(long_url.clone()),
        buttons: vec![
            link_button("a", "Too long", &long_url),
            link_button("b", "Fine", "https://crm.example.com/b"),
        ],
        ..notice()
    };
    assert_eq!(template_card(&card, "t"), None, "no card_action left");

    let interactive = Card {
        buttons: [
            vec![callback("ok", "OK", ButtonStyle::Primary)],
            card.buttons,
        ]
        .concat(),
        ..card
    };
    let template = template_card(&interactive, "t").unwrap();
    assert_eq!(template.card_action, None);
    let urls: Vec<_> = template
        .button_list
        .iter()
        .map(|b| b.url.as_deref())
        .collect();
    assert_eq!(urls, [None, Some("https://crm.example.com/b")]);
}

#[test]
fn a_callback_key_over_1024_bytes_drops_its_button() {
    let card = Card {
        buttons: vec![
            callback(&"k".repeat(1025), "Too long", ButtonStyle::Primary),
            callback(&"k".repeat(1024), "Longest", ButtonStyle::Primary),
        ],
        ..approval()
    };
    let template = template_card(&card, "t").unwrap();
    assert_eq!(template.button_list.len(), 1);
    assert_eq!(template.button_list[0].text, "Longest");
}

#[test]
fn the_task_id_is_sanitised_to_wecom_characters_and_128_bytes() {
    assert_eq!(valid_task_id("appr-D1024_1@x"), "appr-D1024_1@x");
    assert_eq!(valid_task_id("审批 #1"), "____1");
    assert_eq!(valid_task_id(&"a".repeat(200)).len(), 128);
    let template = template_card(&approval(), "appr 1/2").unwrap();
    assert_eq!(template.task_id.as_deref(), Some("appr_1_2"));
}

#[test]
fn a_short_description_is_the_title_desc_and_a_long_one_the_body_text() {
    let short = "a".repeat(44);
    let card = Card {
        description: Some(short.clone()),
        ..approval()
    };
    let template = template_card(&card, "t").unwrap();
    assert_eq!(template.main_title.unwrap().desc, Some(short));
    assert_eq!(template.sub_title_text, None);

    let long = "a".repeat(45);
    let card = Card {
        description: Some(long.clone()),
        ..approval()
    };
    let template = template_card(&card, "t").unwrap();
    assert_eq!(template.main_title.unwrap().desc, None);
    assert_eq!(template.sub_title_text, Some(long));
}

#[test]
fn a_decided_card_greys_its_buttons_and_shows_the_caption_first() {
    let card = Card {
        description: Some("d".repeat(100)),
        ..decided()
    };
    let template = template_card(&card, "t").unwrap();
    assert_eq!(template.card_type, CardType::ButtonInteraction);
    assert_eq!(
        template.replace_text.as_deref(),
        Some("Approved by Li Lei…")
    );
    let body = template.sub_title_text.unwrap();
    assert!(body.starts_with("Approved by Li Lei 14:02\nddd"), "{body}");

    let notice = Card {
        status: decided().status,
        ..notice()
    };
    let template = template_card(&notice, "t").unwrap();
    assert_eq!(template.replace_text, None);
    assert_eq!(
        template.sub_title_text.as_deref(),
        Some("Approved by Li Lei 14:02")
    );
}

#[test]
fn the_update_of_a_decided_card_replaces_it_without_task_id() {
    let Some(CardUpdate::TemplateCard(template)) = update(&decided()) else {
        panic!("expected a replacement card");
    };
    assert_eq!(template.card_type, CardType::ButtonInteraction);
    assert_eq!(template.task_id, None);
    assert_eq!(
        template.replace_text.as_deref(),
        Some("Approved by Li Lei…")
    );
    assert_eq!(template.button_list.len(), 3);
    let json = serde_json::to_value(CardUpdate::replace_card(*template)).unwrap();
    assert_eq!(json["template_card"]["replace_text"], "Approved by Li Lei…");
}

#[test]
fn a_card_without_callback_buttons_has_no_update() {
    let card = Card {
        status: decided().status,
        ..notice()
    };
    assert_eq!(update(&card), None);
}

#[test]
fn every_field_of_an_oversized_card_is_cut_to_its_limit_on_a_char_boundary() {
    let template = template_card(&huge(), "t").unwrap();
    assert_eq!(template.card_type, CardType::ButtonInteraction);

    let title = template.main_title.as_ref().unwrap();
    let title_text = title.title.as_deref().unwrap();
    assert_eq!(chars(title_text), 36);
    assert!(title_text.ends_with(ELLIPSIS));
    assert!(title_text.starts_with("折扣审批"));
    assert_eq!(title.desc, None, "a 3 KB description is body text");

    let body = template.sub_title_text.as_deref().unwrap();
    assert_eq!(chars(body), 160);
    assert!(body.ends_with(ELLIPSIS));
    assert!(body.starts_with("已由李雷批准"), "the caption comes first");

    let source = template.source.as_ref().unwrap().desc.as_deref().unwrap();
    assert_eq!(chars(source), 20);
    let quote = template
        .quote_area
        .as_ref()
        .unwrap()
        .quote_text
        .as_deref()
        .unwrap();
    assert_eq!(chars(quote), 160);
    assert_eq!(chars(template.replace_text.as_deref().unwrap()), 20);

    assert_eq!(template.horizontal_content_list.len(), 6);
    for row in &template.horizontal_content_list {
        assert!(chars(&row.keyname) <= 10, "{row:?}");
        let value = row.value.as_deref().unwrap();
        assert_eq!(chars(value), 30);
        assert!(value.ends_with(ELLIPSIS));
    }
    // The figure leads the rows on an interactive card; then the card's first five rows.
    assert_eq!(
        template.horizontal_content_list[0].keyname,
        "折扣金额折扣金额折…"
    );
    assert_eq!(template.horizontal_content_list[1].keyname, "客户名称字段0");
    assert_eq!(template.horizontal_content_list[5].keyname, "客户名称字段4");

    assert_eq!(template.button_list.len(), 6);
    for button in &template.button_list {
        assert_eq!(chars(&button.text), 10);
        assert!(button.text.ends_with(ELLIPSIS));
    }
    // Link buttons keep their whole URL.
    assert_eq!(template.button_list[1].url, huge().buttons[1].url);
    assert_eq!(template.card_action.as_ref().unwrap().url, huge().link);
}

#[test]
fn an_oversized_text_notice_keeps_three_jumps_and_a_capped_emphasis() {
    let card = Card {
        buttons: huge()
            .buttons
            .into_iter()
            .filter(|button| button.url.is_some())
            .collect(),
        ..huge()
    };
    let template = template_card(&card, "t").unwrap();
    assert_eq!(template.card_type, CardType::TextNotice);
    assert_eq!(template.jump_list.len(), 3);
    assert!(
        template
            .jump_list
            .iter()
            .all(|jump| chars(&jump.title) == 18)
    );
    let emphasis = template.emphasis_content.unwrap();
    assert_eq!(chars(emphasis.title.as_deref().unwrap()), 14);
    assert_eq!(chars(emphasis.desc.as_deref().unwrap()), 22);
    assert_eq!(template.horizontal_content_list.len(), 6);
}

#[test]
fn message_prefers_the_template_card_unless_markdown_is_asked_for() {
    let card = approval();
    assert_eq!(
        message(&card, "t", false),
        MessageContent::template_card(template_card(&card, "t").unwrap())
    );
    assert_eq!(
        message(&card, "t", true),
        MessageContent::markdown(markdown(&card))
    );
}

#[test]
fn markdown_shows_the_card_with_links_and_without_callback_buttons() {
    assert_eq!(
        markdown(&approval()),
        "<font color=\"comment\">Sales desk</font>\n\
         **Discount approval**\n\
         Deal D-1024 · requested by alice\n\
         <font color=\"warning\">15%</font> discount\n\
         Customer：ACME Ltd\n\
         Owner：alice\n\
         > Annual plan, above the 10% threshold.\n\
         \n\
         [Discount approval](https://crm.example.com/deals/D-1024)\n\
         [Open deal](https://crm.example.com/deals/D-1024)"
    );
    let decided = markdown(&decided());
    assert!(
        decided.contains(
            "**Discount approval**\n<font color=\"info\">Approved by Li Lei 14:02</font>\n"
        ),
        "{decided}"
    );
}

#[test]
fn markdown_of_an_oversized_card_fits_2048_bytes_with_whole_links() {
    let card = huge();
    let text = markdown(&card);
    assert!(text.len() <= MARKDOWN_BYTES, "{}", text.len());
    assert!(text.contains(ELLIPSIS));
    assert!(
        text.contains("<font color=\"info\">"),
        "the caption survives"
    );
    // Every link that is there is whole: the card's and the first link buttons'.
    let link = card.link.as_deref().unwrap();
    assert!(text.contains(&format!("]({link})")));
    assert!(text.contains(&format!("]({})", card.buttons[1].url.as_deref().unwrap())));
    for line in text.lines().filter(|line| line.starts_with('[')) {
        assert!(line.ends_with(')'), "{line}");
    }
    assert!(
        !text.contains("同意该申请"),
        "callback buttons are not shown"
    );
}

#[test]
fn a_long_description_leaves_room_for_the_rows_in_markdown() {
    let card = Card {
        description: Some("说明".repeat(1500)),
        ..approval()
    };
    let text = markdown(&card);
    assert!(text.len() <= MARKDOWN_BYTES);
    assert!(text.contains("说明…\n"), "the description is cut");
    assert!(text.contains("Customer：ACME Ltd"));
    assert!(text.contains("> Annual plan"));
}
