//! Cards shared by the renderer tests.

use crate::cards::{Button, ButtonStyle, Card, Emphasis, Row, Status};

pub(crate) fn callback(key: &str, label: &str, style: ButtonStyle) -> Button {
    Button {
        key: key.to_owned(),
        label: label.to_owned(),
        style,
        url: None,
    }
}

pub(crate) fn link_button(key: &str, label: &str, url: &str) -> Button {
    Button {
        key: key.to_owned(),
        label: label.to_owned(),
        style: ButtonStyle::Default,
        url: Some(url.to_owned()),
    }
}

pub(crate) fn row(key: &str, value: &str) -> Row {
    Row {
        key: key.to_owned(),
        value: value.to_owned(),
    }
}

/// An approval request: every field set, two callback buttons and one link button.
pub(crate) fn approval() -> Card {
    Card {
        title: "Discount approval".to_owned(),
        source: Some("Sales desk".to_owned()),
        description: Some("Deal D-1024 · requested by alice".to_owned()),
        rows: vec![row("Customer", "ACME Ltd"), row("Owner", "alice")],
        emphasis: Some(Emphasis {
            value: "15%".to_owned(),
            label: Some("discount".to_owned()),
        }),
        quote: Some("Annual plan, above the 10% threshold.".to_owned()),
        link: Some("https://crm.example.com/deals/D-1024".to_owned()),
        buttons: vec![
            callback("approve", "Approve", ButtonStyle::Primary),
            callback("reject", "Reject", ButtonStyle::Danger),
            link_button("open", "Open deal", "https://crm.example.com/deals/D-1024"),
        ],
        status: None,
    }
}

/// The approval once decided.
pub(crate) fn decided() -> Card {
    Card {
        status: Some(Status {
            key: "approved".to_owned(),
            caption: "Approved by Li Lei 14:02".to_owned(),
        }),
        ..approval()
    }
}

/// A notice without callback buttons: a link and one link button.
pub(crate) fn notice() -> Card {
    Card {
        title: "新线索已分配给你".to_owned(),
        description: Some("来自展会 expo2024".to_owned()),
        rows: vec![row("客户", "示例贸易有限公司")],
        link: Some("https://crm.example.com/leads/L-77".to_owned()),
        buttons: vec![link_button(
            "call",
            "拨打电话",
            "https://crm.example.com/leads/L-77/call",
        )],
        ..Card::default()
    }
}

/// A card over every limit, in Chinese: a 500-character title, a 3 KB description, 10 rows,
/// 8 buttons (callback and link), and long everything else.
pub(crate) fn huge() -> Card {
    let long = |text: &str, times: usize| text.repeat(times);
    Card {
        title: long("折扣审批", 125),
        source: Some(long("销售部", 20)),
        description: Some(long("说明文字", 256)),
        rows: (0..10)
            .map(|i| row(&format!("客户名称字段{i}"), &long("示例贸易有限公司", 40)))
            .collect(),
        emphasis: Some(Emphasis {
            value: long("一万五千元", 10),
            label: Some(long("折扣金额", 20)),
        }),
        quote: Some(long("申请理由很长。", 100)),
        link: Some(format!("https://crm.example.com/deals/{}", "x".repeat(400))),
        buttons: (0..8)
            .map(|i| {
                if i % 2 == 0 {
                    callback(
                        &format!("action-{i}"),
                        &long("同意该申请", 4),
                        ButtonStyle::Primary,
                    )
                } else {
                    link_button(
                        &format!("link-{i}"),
                        &long("打开详情页面", 4),
                        &format!("https://crm.example.com/{i}/{}", "y".repeat(150)),
                    )
                }
            })
            .collect(),
        status: Some(Status {
            key: "approved".to_owned(),
            caption: long("已由李雷批准", 20),
        }),
    }
}
