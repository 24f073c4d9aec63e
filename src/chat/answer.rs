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

/// Longest title shown in the list of tasks, in characters: ten Chinese titles of the
/// longest kind would not fit in one message (2048 bytes on WeCom).
const LISTED_TITLE_CHARS: usize = 30;

/// One open task, as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskLine {
    pub id: i64,
    pub title: String,
    /// The due time in the working time zone, `YYYY-MM-DD HH:MM`.
    pub due: String,
    pub overdue: bool,
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
    /// The sender's open tasks, the soonest due first, and how many more are not listed.
    Tasks {
        tasks: Vec<TaskLine>,
        more: u64,
    },
    TaskDone {
        id: i64,
        title: String,
    },
    /// The task is due at `due` now (local time, as in [`TaskLine`]).
    TaskSnoozed {
        id: i64,
        due: String,
    },
    /// No such task (or one of another tenant or platform).
    NoSuchTask {
        id: i64,
    },
    /// The task is someone else's.
    NotAssignee {
        id: i64,
        assignee: String,
    },
    /// The task is done or cancelled already; `state` is which.
    TaskClosed {
        id: i64,
        state: String,
    },
    /// The tasks service refused the change; `reason` is its own words.
    TaskRefused {
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
                ParseError::BadTaskId { word, .. } => format!("「{word}」不是任务编号"),
                ParseError::BadDelay(words) => {
                    format!("「{words}」不是 1 分钟到 30 天之间的时长（如 30分钟、2小时、1天）")
                }
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
        Answer::Tasks { tasks, more } => {
            let Some(first) = tasks.first() else {
                return "你没有未完成的任务。".into();
            };
            let total = tasks.len() as u64 + more;
            let mut text = format!("你有 {total} 个未完成的任务：");
            for task in tasks {
                text.push_str(&format!(
                    "\n#{} {} — 截止 {}{}",
                    task.id,
                    shortened(&task.title),
                    task.due,
                    if task.overdue { "（已逾期）" } else { "" }
                ));
            }
            if *more > 0 {
                text.push_str(&format!("\n……另有 {more} 个未列出"));
            }
            let id = first.id;
            text.push_str(&format!(
                "\n发送「完成 {id}」标记完成，「推迟 {id} 2小时」推迟。"
            ));
            text
        }
        Answer::TaskDone { id, title } => format!("任务 #{id} 已完成：{title}"),
        Answer::TaskSnoozed { id, due } => format!("任务 #{id} 已推迟，新的截止时间：{due}。"),
        Answer::NoSuchTask { id } => format!("没有编号为 {id} 的任务。"),
        Answer::NotAssignee { id, assignee } => {
            format!("任务 #{id} 的负责人是 {assignee}，只有负责人可以操作。")
        }
        Answer::TaskClosed { id, state } => {
            let state = match state.as_str() {
                "done" => "已完成",
                "cancelled" => "已取消",
                other => other,
            };
            format!("任务 #{id} {state}，无需再操作。")
        }
        Answer::TaskRefused { reason } => format!("任务未更改：{reason}"),
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
                ParseError::BadTaskId { word, .. } => format!("`{word}` is not a task id"),
                ParseError::BadDelay(words) => format!(
                    "`{words}` is not a duration from 1 minute to 30 days (such as 30m, 2h, 1d)"
                ),
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
        Answer::Tasks { tasks, more } => {
            let Some(first) = tasks.first() else {
                return "You have no open tasks.".into();
            };
            let total = tasks.len() as u64 + more;
            let mut text = if total == 1 {
                String::from("You have 1 open task:")
            } else {
                format!("You have {total} open tasks:")
            };
            for task in tasks {
                text.push_str(&format!(
                    "\n#{} {} — due {}{}",
                    task.id,
                    shortened(&task.title),
                    task.due,
                    if task.overdue { " (overdue)" } else { "" }
                ));
            }
            if *more > 0 {
                text.push_str(&format!("\n…and {more} more"));
            }
            let id = first.id;
            text.push_str(&format!(
                "\nSend \"done {id}\" when one is done, \"snooze {id} 2h\" to put it off."
            ));
            text
        }
        Answer::TaskDone { id, title } => format!("Task #{id} is done: {title}"),
        Answer::TaskSnoozed { id, due } => format!("Task #{id} is put off; it is now due {due}."),
        Answer::NoSuchTask { id } => format!("There is no task {id}."),
        Answer::NotAssignee { id, assignee } => {
            format!("Task #{id} is {assignee}'s; only its assignee can change it.")
        }
        Answer::TaskClosed { id, state } => format!("Task #{id} is {state} already."),
        Answer::TaskRefused { reason } => format!("Task not changed: {reason}"),
        Answer::Fault => {
            "Sorry, that command cannot be handled right now. Please try again later.".into()
        }
    }
}

/// `title` cut to [`LISTED_TITLE_CHARS`], ending with `…` when cut.
fn shortened(title: &str) -> String {
    if title.chars().count() <= LISTED_TITLE_CHARS {
        return title.to_owned();
    }
    let mut short: String = title.chars().take(LISTED_TITLE_CHARS - 1).collect();
    short.push('…');
    short
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

    fn line(id: i64, title: &str, due: &str, overdue: bool) -> TaskLine {
        TaskLine {
            id,
            title: title.into(),
            due: due.into(),
            overdue,
        }
    }

    #[test]
    fn the_task_list_marks_overdue_tasks_and_counts_the_rest() {
        let tasks = Answer::Tasks {
            tasks: vec![
                line(7, "回访华东制造", "2026-11-26 15:00", true),
                line(3, "Send the quote", "2026-11-30 10:30", false),
            ],
            more: 4,
        };
        assert_eq!(
            tasks.text(Locale::ZhCn),
            "你有 6 个未完成的任务：\n#7 回访华东制造 — 截止 2026-11-26 15:00（已逾期）\n\
             #3 Send the quote — 截止 2026-11-30 10:30\n……另有 4 个未列出\n\
             发送「完成 7」标记完成，「推迟 7 2小时」推迟。"
        );
        assert_eq!(
            tasks.text(Locale::En),
            "You have 6 open tasks:\n#7 回访华东制造 — due 2026-11-26 15:00 (overdue)\n\
             #3 Send the quote — due 2026-11-30 10:30\n…and 4 more\n\
             Send \"done 7\" when one is done, \"snooze 7 2h\" to put it off."
        );
        let none = Answer::Tasks {
            tasks: vec![],
            more: 0,
        };
        assert_eq!(none.text(Locale::ZhCn), "你没有未完成的任务。");
        assert_eq!(none.text(Locale::En), "You have no open tasks.");
    }

    #[test]
    fn ten_of_the_longest_titles_fit_in_one_message() {
        let title = "长".repeat(crate::domain::task::MAX_TITLE_CHARS);
        let tasks = Answer::Tasks {
            tasks: (1..=10)
                .map(|id| line(id * 100_000, &title, "2026-11-26 15:00", true))
                .collect(),
            more: 123_456,
        };
        let text = tasks.text(Locale::ZhCn);
        assert!(text.len() <= 2048, "{} bytes", text.len());
        assert!(text.contains(&format!("{}…", "长".repeat(LISTED_TITLE_CHARS - 1))));
        assert!(text.contains("另有 123456 个未列出"), "{text}");
    }

    #[test]
    fn task_mistakes_name_the_task_id_and_the_duration() {
        assert_eq!(
            mistake("完成 abc").text(Locale::ZhCn),
            "「abc」不是任务编号。用法：done <id>"
        );
        assert_eq!(
            mistake("推迟 12 明天").text(Locale::ZhCn),
            "「明天」不是 1 分钟到 30 天之间的时长（如 30分钟、2小时、1天）。用法：snooze <id> <duration>"
        );
        assert_eq!(
            mistake("snooze 12 45d").text(Locale::En),
            "`45d` is not a duration from 1 minute to 30 days (such as 30m, 2h, 1d). \
             Usage: snooze <id> <duration>"
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
