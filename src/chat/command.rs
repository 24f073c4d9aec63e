//! A rep's message as a command: the words are normalized (full-width spaces and `％`
//! accepted, runs of spaces collapsed), the first word picks a row of [`COMMANDS`], and that
//! row's parser reads the rest. A new command is one more [`Command`] variant and one more row;
//! help is written from the table, so it never falls behind.

/// A command ready to run.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// List the commands.
    Help,
    /// Start an approval with the sender as requester.
    Approval(ApprovalArgs),
    /// Withdraw one of the sender's approvals.
    Withdraw { id: i64 },
    /// Make a tracked link of a URL, with the sender as its rep.
    Link(LinkArgs),
    /// List the sender's open tasks.
    Tasks,
    /// Mark one of the sender's tasks done.
    Done { id: i64 },
    /// Move one of the sender's tasks to a later due time.
    Snooze { id: i64, delay: Delay },
}

impl Command {
    /// Its English name, for the logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Help => HELP,
            Self::Approval(_) => APPROVAL,
            Self::Withdraw { .. } => WITHDRAW,
            Self::Link(_) => LINK,
            Self::Tasks => TASKS,
            Self::Done { .. } => DONE,
            Self::Snooze { .. } => SNOOZE,
        }
    }
}

/// `approval <kind> <amount> [<discount>%] <title…>`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalArgs {
    /// One word, e.g. `discount`; the rules route on it.
    pub kind: String,
    /// In yuan; `20万` is 200000.
    pub amount: f64,
    /// Percent; 0 when not given.
    pub discount_pct: f64,
    /// The rest of the message, words joined by one space.
    pub title: String,
}

/// `link <url> [<campaign>]`.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkArgs {
    /// The target, checked when the link is made.
    pub url: String,
    /// The campaign the clicks count towards; [`DEFAULT_CAMPAIGN`] when not given.
    pub campaign: String,
}

pub use delay::Delay;

/// The campaign of links made in chat without one.
pub const DEFAULT_CAMPAIGN: &str = "chat";

/// Why a message is not a command that can run: the sender's mistake, answered in chat with
/// what is wrong and the command's usage.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    #[error("unknown command `{0}`")]
    Unknown(String),
    #[error("`{command}` needs {argument}")]
    Missing {
        command: &'static str,
        argument: &'static str,
    },
    #[error("`{0}` is not an amount")]
    BadAmount(String),
    #[error("`{0}` is not a discount between 0% and 100%")]
    BadDiscount(String),
    #[error("`{0}` is not an approval id")]
    BadId(String),
    #[error("`{word}` is not a task id")]
    BadTaskId { command: &'static str, word: String },
    #[error("`{0}` is not a duration from 1 minute to 30 days")]
    BadDelay(String),
    #[error("`{command}` does not take `{extra}`")]
    Unexpected {
        command: &'static str,
        extra: String,
    },
}

impl ParseError {
    /// The command the mistake was made in, for its usage; `None` for an unknown command.
    pub fn command(&self) -> Option<&'static Spec> {
        let name = match self {
            Self::Unknown(_) => return None,
            Self::Missing { command, .. } | Self::Unexpected { command, .. } => *command,
            Self::BadAmount(_) | Self::BadDiscount(_) => APPROVAL,
            Self::BadId(_) => WITHDRAW,
            Self::BadTaskId { command, .. } => *command,
            Self::BadDelay(_) => SNOOZE,
        };
        spec(name)
    }
}

/// A one-line text in each locale.
#[derive(Debug, Clone, Copy)]
pub struct Localized {
    pub zh_cn: &'static str,
    pub en: &'static str,
}

/// One command: the words that start it, how it reads its arguments, and its help line.
#[derive(Debug)]
pub struct Spec {
    /// The English name, shown in help and in mistakes.
    pub name: &'static str,
    /// Other words that start it.
    pub aliases: &'static [&'static str],
    /// The arguments after the name, as help shows them.
    pub args: &'static str,
    /// What it does.
    pub summary: Localized,
    /// An example help shows, if any.
    pub example: Option<&'static str>,
    parse: fn(&[&str]) -> Result<Command, ParseError>,
}

impl Spec {
    /// `name args`, e.g. `withdraw <id>`.
    pub fn usage(&self) -> String {
        if self.args.is_empty() {
            self.name.to_owned()
        } else {
            format!("{} {}", self.name, self.args)
        }
    }

    fn is_called(&self, word: &str) -> bool {
        self.name == word || self.aliases.contains(&word)
    }
}

const HELP: &str = "help";
const APPROVAL: &str = "approval";
const WITHDRAW: &str = "withdraw";
const LINK: &str = "link";
const TASKS: &str = "tasks";
const DONE: &str = "done";
const SNOOZE: &str = "snooze";

/// Every command, in the order help lists them.
pub const COMMANDS: &[Spec] = &[
    Spec {
        name: HELP,
        aliases: &["帮助", "?", "？"],
        args: "",
        summary: Localized {
            zh_cn: "列出可用的命令",
            en: "list the commands",
        },
        example: None,
        parse: |_| Ok(Command::Help),
    },
    Spec {
        name: APPROVAL,
        aliases: &["审批"],
        args: "<kind> <amount> [<discount>%] <title…>",
        summary: Localized {
            zh_cn: "发起审批，发起人是你；金额可写 200,000 或 20万",
            en: "start an approval with you as the requester; amounts may read 200,000 or 20万",
        },
        example: Some("审批 discount 20万 18% 华东制造 Q4 续约"),
        parse: approval,
    },
    Spec {
        name: WITHDRAW,
        aliases: &["撤回"],
        args: "<id>",
        summary: Localized {
            zh_cn: "撤回你发起的、尚未决定的审批",
            en: "withdraw a pending approval you requested",
        },
        example: Some("撤回 12"),
        parse: withdraw,
    },
    Spec {
        name: LINK,
        aliases: &["链接"],
        args: "<url> [<campaign>]",
        summary: Localized {
            zh_cn: "生成可统计点击的短链接，发到客户群里",
            en: "make a tracked short link to post in customer groups",
        },
        example: Some("链接 https://example.com/expo 双11展会"),
        parse: link,
    },
    Spec {
        name: TASKS,
        aliases: &["任务", "我的任务"],
        args: "",
        summary: Localized {
            zh_cn: "列出你未完成的任务，最早到期的在前",
            en: "list your open tasks, the soonest due first",
        },
        example: None,
        parse: tasks,
    },
    Spec {
        name: DONE,
        aliases: &["完成"],
        args: "<id>",
        summary: Localized {
            zh_cn: "把你的任务标记为已完成",
            en: "mark one of your tasks done",
        },
        example: Some("完成 12"),
        parse: done,
    },
    Spec {
        name: SNOOZE,
        aliases: &["推迟", "延后"],
        args: "<id> <duration>",
        summary: Localized {
            zh_cn: "推迟你的任务；分钟、小时按工作时间计，天按自然日计",
            en: "put off one of your tasks; minutes and hours count working time, days calendar days",
        },
        example: Some("推迟 12 2小时"),
        parse: snooze,
    },
];

/// The command named `name` (its English name).
pub fn spec(name: &str) -> Option<&'static Spec> {
    COMMANDS.iter().find(|spec| spec.name == name)
}

/// Reads `text` as a command; `None` when it holds no words.
pub fn parse(text: &str) -> Option<Result<Command, ParseError>> {
    let text = normalize(text);
    let words: Vec<&str> = text.split_whitespace().collect();
    let (first, args) = words.split_first()?;
    let word = first.to_lowercase();
    Some(match COMMANDS.iter().find(|spec| spec.is_called(&word)) {
        Some(spec) => (spec.parse)(args),
        None => Err(ParseError::Unknown((*first).to_owned())),
    })
}

/// Full-width spaces and percent signs (what a Chinese input method types) as their ASCII
/// forms.
fn normalize(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '％' => '%',
            c => c,
        })
        .collect()
}

fn approval(args: &[&str]) -> Result<Command, ParseError> {
    let missing = |argument| ParseError::Missing {
        command: APPROVAL,
        argument,
    };
    let kind = args.first().ok_or_else(|| missing("<kind>"))?;
    let amount = amount(args.get(1).ok_or_else(|| missing("<amount>"))?)?;
    let mut rest = &args[2..];
    let mut discount_pct = 0.0;
    if let Some(word) = rest.first().filter(|word| word.ends_with('%')) {
        discount_pct = discount(word)?;
        rest = &rest[1..];
    }
    if rest.is_empty() {
        return Err(missing("<title>"));
    }
    Ok(Command::Approval(ApprovalArgs {
        kind: (*kind).to_owned(),
        amount,
        discount_pct,
        title: rest.join(" "),
    }))
}

fn withdraw(args: &[&str]) -> Result<Command, ParseError> {
    let word = args.first().ok_or(ParseError::Missing {
        command: WITHDRAW,
        argument: "<id>",
    })?;
    no_more(WITHDRAW, &args[1..])?;
    match id(word) {
        Some(id) => Ok(Command::Withdraw { id }),
        None => Err(ParseError::BadId((*word).to_owned())),
    }
}

fn tasks(args: &[&str]) -> Result<Command, ParseError> {
    no_more(TASKS, args)?;
    Ok(Command::Tasks)
}

fn done(args: &[&str]) -> Result<Command, ParseError> {
    let id = task_id(DONE, args.first())?;
    no_more(DONE, &args[1..])?;
    Ok(Command::Done { id })
}

fn snooze(args: &[&str]) -> Result<Command, ParseError> {
    let id = task_id(SNOOZE, args.first())?;
    let rest = &args[1..];
    if rest.is_empty() {
        return Err(ParseError::Missing {
            command: SNOOZE,
            argument: "<duration>",
        });
    }
    // `2 小时` as typed with a space between number and unit is one duration.
    no_more(SNOOZE, rest.get(2..).unwrap_or_default())?;
    let written = rest.concat();
    let delay = Delay::parse(&written).ok_or(ParseError::BadDelay(rest.join(" ")))?;
    Ok(Command::Snooze { id, delay })
}

/// The id of a task `command` acts on.
fn task_id(command: &'static str, word: Option<&&str>) -> Result<i64, ParseError> {
    let word = word.ok_or(ParseError::Missing {
        command,
        argument: "<id>",
    })?;
    id(word).ok_or_else(|| ParseError::BadTaskId {
        command,
        word: (*word).to_owned(),
    })
}

/// A positive id, with or without the `#` answers write before it (copying that back works
/// too).
fn id(word: &str) -> Option<i64> {
    let digits = word.trim_start_matches(['#', '＃']);
    if !all_digits(digits) {
        return None;
    }
    digits.parse::<i64>().ok().filter(|id| *id > 0)
}

/// Refuses words after the last argument of `command`.
fn no_more(command: &'static str, extra: &[&str]) -> Result<(), ParseError> {
    match extra.first() {
        Some(extra) => Err(ParseError::Unexpected {
            command,
            extra: (*extra).to_owned(),
        }),
        None => Ok(()),
    }
}

fn link(args: &[&str]) -> Result<Command, ParseError> {
    let url = args.first().ok_or(ParseError::Missing {
        command: LINK,
        argument: "<url>",
    })?;
    if let Some(extra) = args.get(2) {
        return Err(ParseError::Unexpected {
            command: LINK,
            extra: (*extra).to_owned(),
        });
    }
    Ok(Command::Link(LinkArgs {
        url: (*url).to_owned(),
        campaign: args.get(1).unwrap_or(&DEFAULT_CAMPAIGN).to_string(),
    }))
}

/// `200000`, `200,000`, `20万`, `1.5万`, `99.90`; commas only between groups of three digits.
fn amount(word: &str) -> Result<f64, ParseError> {
    let bad = || ParseError::BadAmount(word.to_owned());
    let (number, factor) = match word.strip_suffix('万') {
        Some(number) => (number, 10_000.0),
        None => (word, 1.0),
    };
    let number = number.replace('，', ",");
    let (whole, fraction) = match number.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (number.as_str(), None),
    };
    let mut groups = whole.split(',');
    let head = groups.next().unwrap_or_default();
    let grouped = groups.all(|group| group.len() == 3 && all_digits(group));
    let head_ok = all_digits(head) && (whole == head || head.len() <= 3);
    let fraction_ok = fraction.is_none_or(all_digits);
    if !(grouped && head_ok && fraction_ok) {
        return Err(bad());
    }
    let plain = number.replace(',', "");
    let value: f64 = plain.parse().map_err(|_| bad())?;
    let value = value * factor;
    if !value.is_finite() {
        return Err(bad());
    }
    // Cents at most: 1.23456万 is not an amount anyone means to the fraction of a cent.
    Ok((value * 100.0).round() / 100.0)
}

/// `18%`, `7.5%`: from 0 to 100.
fn discount(word: &str) -> Result<f64, ParseError> {
    let bad = || ParseError::BadDiscount(word.to_owned());
    let number = word.strip_suffix('%').ok_or_else(bad)?;
    let (whole, fraction) = number.split_once('.').unwrap_or((number, "0"));
    if !all_digits(whole) || !all_digits(fraction) {
        return Err(bad());
    }
    let value: f64 = number.parse().map_err(|_| bad())?;
    if (0.0..=100.0).contains(&value) {
        Ok(value)
    } else {
        Err(bad())
    }
}

fn all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

mod delay;
#[cfg(test)]
mod tests;
