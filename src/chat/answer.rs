//! What the bot answers a command, as plain text in the configured locale (`[templates]
//! locale`: Chinese unless it is `en`). The texts live here, apart from the logic that picks
//! them, so that wording changes touch one file.

use super::command::{COMMANDS, ParseError, Spec};

/// The language of the answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    ZhCn,
    En,
}

impl Locale {
    /// `en` is English; anything else the default, Chinese.
    pub fn from_config(locale: &str) -> Self {
        if locale == "en" { Self::En } else { Self::ZhCn }
    }
}

/// One level of a started approval, as the answer lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    pub approvers: Vec<String>,
    /// `any` (one approval decides) or `all`.
    pub mode: String,
}

/// An answer to a command.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Help,
    /// The message is not a command that can run.
    Mistake(ParseError),
    Started {
        id: i64,
        levels: Vec<Level>,
    },
    /// The service refused the request; `reason` is its own words.
    NotStarted {
        reason: String,
    },
    /// No rule routes the request, or its route cannot be followed.
    Unroutable {
        reason: String,
    },
    Withdrawn {
        id: i64,
    },
    NoSuchApproval {
        id: i64,
    },
    NotRequester {
        id: i64,
        requester: String,
    },
    /// The approval is decided or withdrawn already; `status` is its state.
    Decided {
        id: i64,
        status: String,
    },
    /// A tracked link was made.
    LinkMade {
        url: String,
        campaign: String,
    },
    /// The link was not made; `reason` says why (a target that is not http/https, say).
    LinkRefused {
        reason: String,
    },
    /// Something on salesbot's side failed; the cause is in the log.
    Fault,
}

impl Answer {
    /// The text sent to the sender.
    pub fn text(&self, locale: Locale) -> String {
        match locale {
            Locale::ZhCn => zh_cn(self),
            Locale::En => en(self),
        }
    }
}

fn zh_cn(answer: &Answer) -> String {
    match answer {
        Answer::Help => {
            let mut text = String::from("可用的命令：");
            for spec in COMMANDS {
                text.push_str(&format!(
                    "\n{}{} — {}",
                    spec.usage(),
                    aliases(spec, "（也可用 ", "、", "）"),
                    spec.summary.zh_cn
                ));
                if let Some(example) = spec.example {
                    text.push_str(&format!("，例如：{example}"));
                }
            }
            text
        }
        Answer::Mistake(mistake) => {
            let what = match mistake {
                ParseError::Unknown(word) => {
                    return format!("不认识的命令「{word}」。发送 help 查看可用的命令。");
                }
                ParseError::Missing { argument, .. } => format!("缺少 {argument}"),
                ParseError::BadAmount(word) => format!("「{word}」不是金额"),
                ParseError::BadDiscount(word) => format!("「{word}」不是 0% 到 100% 之间的折扣"),
                ParseError::BadId(word) => format!("「{word}」不是审批编号"),
                ParseError::Unexpected { extra, .. } => format!("多余的「{extra}」"),
            };
            match mistake.command() {
                Some(spec) => format!("{what}。用法：{}", spec.usage()),
                None => format!("{what}。"),
            }
        }
        Answer::Started { id, levels } => {
            let mut text = format!("审批 #{id} 已发起。");
            for (n, level) in levels.iter().enumerate() {
                let mode = if level.mode == "all" {
                    "全部同意"
                } else {
                    "任一人同意"
                };
                text.push_str(&format!(
                    "\n第 {} 级（{mode}）：{}",
                    n + 1,
                    level.approvers.join("、")
                ));
            }
            text.push_str(&format!("\n发送「撤回 {id}」可撤回。"));
            text
        }
        Answer::NotStarted { reason } => format!("审批未发起：{reason}"),
        Answer::Unroutable { reason } => format!("审批未发起，无法确定审批流程：{reason}"),
        Answer::Withdrawn { id } => format!("审批 #{id} 已撤回。"),
        Answer::NoSuchApproval { id } => format!("没有编号为 {id} 的审批。"),
        Answer::NotRequester { id, requester } => {
            format!("审批 #{id} 只能由发起人 {requester} 撤回。")
        }
        Answer::Decided { id, status } => {
            let status = match status.as_str() {
                "approved" => "已同意",
                "rejected" => "已驳回",
                "withdrawn" => "已撤回",
                other => other,
            };
            format!("审批 #{id} {status}，不能再撤回。")
        }
        Answer::LinkMade { url, campaign } => {
            format!("短链接已生成（活动：{campaign}）：\n{url}\n发到客户群后，点击会计入统计。")
        }
        Answer::LinkRefused { reason } => format!("短链接未生成：{reason}"),
        Answer::Fault => "抱歉，暂时无法处理这条命令，请稍后再试。".into(),
    }
}

fn en(answer: &Answer) -> String {
    match answer {
        Answer::Help => {
            let mut text = String::from("Commands:");
            for spec in COMMANDS {
                text.push_str(&format!(
                    "\n{}{} — {}",
                    spec.usage(),
                    aliases(spec, " (or ", ", ", ")"),
                    spec.summary.en
                ));
                if let Some(example) = spec.example {
                    text.push_str(&format!(", e.g. {example}"));
                }
            }
            text
        }
        Answer::Mistake(mistake) => {
            let what = match mistake {
                ParseError::Unknown(word) => {
                    return format!(
                        "Unknown command `{word}`. Send help for the list of commands."
                    );
                }
                ParseError::Missing { argument, .. } => format!("{argument} is missing"),
                ParseError::BadAmount(word) => format!("`{word}` is not an amount"),
                ParseError::BadDiscount(word) => {
                    format!("`{word}` is not a discount between 0% and 100%")
                }
                ParseError::BadId(word) => format!("`{word}` is not an approval id"),
                ParseError::Unexpected { extra, .. } => format!("`{extra}` is one word too many"),
            };
            match mistake.command() {
                Some(spec) => format!("{what}. Usage: {}", spec.usage()),
                None => format!("{what}."),
            }
        }
        Answer::Started { id, levels } => {
            let mut text = format!("Approval #{id} started.");
            for (n, level) in levels.iter().enumerate() {
                let mode = if level.mode == "all" {
                    "all must approve"
                } else {
                    "any one approves"
                };
                text.push_str(&format!(
                    "\nLevel {} ({mode}): {}",
                    n + 1,
                    level.approvers.join(", ")
                ));
            }
            text.push_str(&format!("\nSend \"withdraw {id}\" to withdraw it."));
            text
        }
        Answer::NotStarted { reason } => format!("Approval not started: {reason}"),
        Answer::Unroutable { reason } => {
            format!("Approval not started, it cannot be routed: {reason}")
        }
        Answer::Withdrawn { id } => format!("Approval #{id} is withdrawn."),
        Answer::NoSuchApproval { id } => format!("There is no approval {id}."),
        Answer::NotRequester { id, requester } => {
            format!("Only its requester, {requester}, can withdraw approval #{id}.")
        }
        Answer::Decided { id, status } => {
            format!("Approval #{id} is {status} already and cannot be withdrawn.")
        }
        Answer::LinkMade { url, campaign } => format!(
            "Tracked link for campaign {campaign}:\n{url}\nPost it in customer groups; its clicks are counted."
        ),
        Answer::LinkRefused { reason } => format!("Link not made: {reason}"),
        Answer::Fault => {
            "Sorry, that command cannot be handled right now. Please try again later.".into()
        }
    }
}

/// `spec`'s aliases between `open` and `close`, or nothing.
fn aliases(spec: &Spec, open: &str, separator: &str, close: &str) -> String {
    if spec.aliases.is_empty() {
        String::new()
    } else {
        format!("{open}{}{close}", spec.aliases.join(separator))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::command::parse;

    fn mistake(text: &str) -> Answer {
        Answer::Mistake(parse(text).unwrap().unwrap_err())
    }

    #[test]
    fn help_lists_every_command_with_its_usage_and_aliases() {
        for locale in [Locale::ZhCn, Locale::En] {
            let help = Answer::Help.text(locale);
            assert_eq!(help.lines().count(), COMMANDS.len() + 1, "{help}");
            for spec in COMMANDS {
                assert!(help.contains(&spec.usage()), "{help}");
                for alias in spec.aliases {
                    assert!(help.contains(alias), "{help}");
                }
            }
        }
        assert!(Answer::Help.text(Locale::ZhCn).contains("发起审批"));
        assert!(Answer::Help.text(Locale::En).contains("start an approval"));
    }

    #[test]
    fn a_mistake_says_what_is_wrong_and_how_the_command_reads() {
        assert_eq!(
            mistake("审批 discount 20万").text(Locale::ZhCn),
            "缺少 <title>。用法：approval <kind> <amount> [<discount>%] <title…>"
        );
        assert_eq!(
            mistake("approval discount lots title").text(Locale::En),
            "`lots` is not an amount. Usage: approval <kind> <amount> [<discount>%] <title…>"
        );
        assert_eq!(
            mistake("hi").text(Locale::ZhCn),
            "不认识的命令「hi」。发送 help 查看可用的命令。"
        );
    }

    #[test]
    fn a_started_approval_names_its_id_and_each_levels_approvers() {
        let started = Answer::Started {
            id: 7,
            levels: vec![
                Level {
                    approvers: vec!["boss".into()],
                    mode: "any".into(),
                },
                Level {
                    approvers: vec!["zhao.min".into(), "qian.jun".into()],
                    mode: "all".into(),
                },
            ],
        };
        assert_eq!(
            started.text(Locale::ZhCn),
            "审批 #7 已发起。\n第 1 级（任一人同意）：boss\n第 2 级（全部同意）：zhao.min、qian.jun\n\
             发送「撤回 7」可撤回。"
        );
        assert_eq!(
            started.text(Locale::En),
            "Approval #7 started.\nLevel 1 (any one approves): boss\n\
             Level 2 (all must approve): zhao.min, qian.jun\nSend \"withdraw 7\" to withdraw it."
        );
    }

    #[test]
    fn the_default_locale_is_chinese() {
        assert_eq!(Locale::from_config("zh-CN"), Locale::ZhCn);
        assert_eq!(Locale::from_config("en"), Locale::En);
        assert_eq!(
            Answer::Withdrawn { id: 3 }.text(Locale::from_config("zh-CN")),
            "审批 #3 已撤回。"
        );
    }
}
